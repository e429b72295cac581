from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from bot.handoff import complaint as complaint_module
from bot.handoff.complaint import complaint_score
from bot.handoff.complaint_model import DIM, MODEL_PATH, ComplaintModel, load_complaint_model
from bot.handoff.train_complaint import confident_threshold
from bot.handoff.triggers import Reason, TriggerInput, Triggers

triggers = Triggers()


def _toy(bias: float) -> ComplaintModel:
    """Scores only the first vector component: score = sigmoid(4 * v[0] + bias)."""
    weights = np.zeros(DIM, dtype=np.float32)
    weights[0] = 4.0
    return ComplaintModel(weights, bias)


def test_score_half_is_the_operating_point_folded_into_the_bias():
    vector = np.zeros(DIM, dtype=np.float32)
    assert _toy(0.0).score(vector) == pytest.approx(0.5)
    assert _toy(-1.0).score(vector) < 0.5 < _toy(1.0).score(vector)


def test_the_model_scores_when_a_vector_is_given_and_the_cue_rule_otherwise():
    vector = np.zeros(DIM, dtype=np.float32)
    vector[0] = 1.0
    text = "still waiting, 3 weeks, worst service ever"
    with_model = complaint_score(text, "neutral", 0.0, vector, model=_toy(0.0))
    assert with_model.source == "model" and with_model.score > 0.9 and with_model.cues
    without = complaint_score(text, "neutral", 0.0)
    assert without.source == "cues" and without.score == pytest.approx(0.9)


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    _toy(0.25).save(path)
    loaded = load_complaint_model(path)
    assert loaded.bias == pytest.approx(0.25) and loaded.weights.shape == (DIM,)


def test_the_shipped_artefact_loads_and_is_small():
    model = load_complaint_model()
    assert model.weights.shape == (DIM + len(model.cue_groups),)
    assert MODEL_PATH.stat().st_size < 64 * 1024
    assert 0.5 < model.confident < 1.0  # the high-precision point lies above the operating point


def test_the_confident_point_round_trips_and_older_artefacts_never_trust_the_score_alone(tmp_path):
    path = tmp_path / "model.npz"
    replace(_toy(0.0), confident=0.8).save(path)
    assert load_complaint_model(path).confident == pytest.approx(0.8)
    weights = np.zeros(DIM, dtype=np.float32)
    np.savez_compressed(path, weights=weights, bias=np.float32(0), cue_groups=np.array([], dtype=str), cue_scale=1.0)
    assert load_complaint_model(path).confident == math.inf


def test_the_confident_threshold_is_the_first_point_at_or_above_the_operating_point_with_high_precision():
    gold = np.array([1] * 9 + [0] * 11)
    # 10 negatives score low, one negative 0.7; positives spread from 0.3 to 0.9 (precision 0.9 above 0.1)
    probabilities = np.concatenate([np.linspace(0.3, 0.9, 9), np.full(10, 0.1), [0.7]])
    threshold = confident_threshold(gold, probabilities, 0.2)
    assert threshold is not None and threshold > 0.7  # only above the 0.7 negative is precision >= 0.95
    assert confident_threshold(np.array([1, 0]), np.array([0.6, 0.9]), 0.5) is None


CALM_REPORT = "my parcel came on tuesday and the lid was cracked"  # no cue words, told calmly


@pytest.mark.parametrize("confident", [0.9, 0.99])
def test_a_calm_problem_report_with_a_confident_answer_is_answered_whatever_the_classifier_says(monkeypatch, confident):
    vector = np.zeros(DIM, dtype=np.float32)
    vector[0] = 0.6  # toy score sigmoid(2.4) ~ 0.92: above the operating point, then above / below `confident`
    toy = replace(_toy(0.0), confident=confident)
    monkeypatch.setattr(complaint_module, "shipped_complaint_model", lambda: toy)
    assert complaint_module.matched_cues(CALM_REPORT) == {}
    assert triggers.check(TriggerInput(CALM_REPORT, decision="answer", vector=vector)) is None
    assert triggers.check(TriggerInput(CALM_REPORT, decision="no_answer", vector=vector)) is not None


@pytest.fixture(scope="module")
def embed():
    from knowledge.embedder import shared_embedder

    return shared_embedder().query


@pytest.mark.parametrize("text", ["How long does a refund take?", "what time do you open on Sunday?", "发票怎么开？"])
def test_ordinary_questions_do_not_hand_off_with_the_vector(embed, text):
    assert triggers.check(TriggerInput(text, decision="answer", vector=embed(text))) is None


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("great, another 3-hour delay. thanks for nothing", "no_answer"),  # sarcasm the FAQ has no answer for
        ("快递一周了还没到，打电话也没人接，太离谱了", "answer"),  # grievance words: even a good answer is not enough
    ],
)
def test_clear_grievances_hand_off_as_complaints_scored_by_the_model(embed, text, decision):
    hit = triggers.check(TriggerInput(text, decision=decision, vector=embed(text)))
    assert hit is not None and hit.reason == Reason.COMPLAINT and hit.evidence["scored_by"] == "model"


def test_a_calm_problem_report_the_bot_can_answer_is_answered_not_handed_off(embed):
    text = "my order arrived in the wrong colour, can I exchange it?"
    assert triggers.check(TriggerInput(text, decision="answer", vector=embed(text))) is None
