"""The answer rule of KBs without a classifier (huge or one question per entry): learnt from the KB itself."""

from __future__ import annotations

import hashlib

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.calibration import MARGIN_RULE_MIN_ENTRIES, MarginRule, fit_margin_rule
from knowledge.decision import RetrievalSettings, decide
from knowledge.entry import FaqEntry
from knowledge.ranking import Ranker

DIM = 384


class HashEmbedder:
    """Deterministic pseudo-random unit vectors: unrelated texts are far apart, equal texts identical."""

    dim = DIM

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def queries(self, texts) -> np.ndarray:
        return np.stack([_vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    passages = queries


def _vector(text: str) -> np.ndarray:
    seed = int(hashlib.md5(text.encode()).hexdigest()[:8], 16)
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _entries(n: int) -> list[FaqEntry]:
    return [FaqEntry(f"e{i}", [f"question number {i}"], answer=f"answer {i}") for i in range(n)]


def _ranker(n: int) -> tuple[Ranker, np.ndarray, list[list[str]], np.ndarray]:
    vectors = np.stack([_vector(f"question number {i}") for i in range(n)])
    tokens = [["question", "number", str(i)] for i in range(n)]
    owner = np.arange(n)
    weights = RetrievalSettings().ranking_weights()
    return Ranker(vectors, tokens, owner, n, weights), vectors, tokens, owner


def test_out_of_scope_rank_is_a_mid_rank():
    rule = MarginRule(np.array([[0.1, 0.2, 0.3, 0.4]]))
    assert rule.out_of_scope_rank(1, 0.0) == 0.0
    assert rule.out_of_scope_rank(1, 0.2) == 0.375  # one below, one tied (counted half)
    assert rule.out_of_scope_rank(1, 1.0) == 1.0
    assert rule.out_of_scope_rank(3, 0.25) == 0.5  # larger groups use the largest row there is


def test_margin_rule_only_for_large_kbs_without_classifier():
    small = _ranker(MARGIN_RULE_MIN_ENTRIES - 1)
    assert fit_margin_rule(*small, max_group=3) is None
    ranker, vectors, tokens, owner = _ranker(MARGIN_RULE_MIN_ENTRIES + 10)
    rule = fit_margin_rule(ranker, vectors, tokens, owner, max_group=3)
    assert rule is not None
    assert rule.leads.shape == (3, MARGIN_RULE_MIN_ENTRIES + 10)
    assert (np.diff(rule.leads, axis=1) >= 0).all()
    assert (rule.leads[1] >= rule.leads[0]).all()


def test_clear_lead_answers_and_a_tie_does_not():
    ranker, vectors, tokens, owner = _ranker(80)
    rule = fit_margin_rule(ranker, vectors, tokens, owner, max_group=3)
    ids = [f"e{i}" for i in range(80)]
    settings = RetrievalSettings()
    clear = decide(ranker.score(tokens[7], vectors[7]), ids, settings, rule)
    assert (clear.decision, clear.faq_id) == ("answer", "e7")
    between = vectors[3] + vectors[4]
    tie = decide(ranker.score(["question", "number"], between / np.linalg.norm(between)), ids, settings, rule)
    assert tie.faq_id is None


def test_large_single_question_kb_gets_a_margin_rule():
    kb = KnowledgeBase.in_memory(_entries(MARGIN_RULE_MIN_ENTRIES + 5), HashEmbedder())
    state = kb._current_state()
    assert not state.ranker.has_classifier
    assert isinstance(state.rule, MarginRule)
    assert kb.search("question number 12").faq_id == "e12"
    small = KnowledgeBase.in_memory(_entries(5), HashEmbedder())
    assert small._current_state().rule is None  # tiny KBs keep the fixed fallback rule
