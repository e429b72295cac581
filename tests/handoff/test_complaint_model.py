from __future__ import annotations

import numpy as np
import pytest

from bot.handoff.complaint import complaint_score
from bot.handoff.complaint_model import DIM, MODEL_PATH, ComplaintModel, load_complaint_model
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
