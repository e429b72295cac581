"""Turns per-entry scores into a calibrated confidence and an answer / clarify / no_answer decision."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from knowledge.ranking import EntryScores, RankingWeights

Decision = Literal["answer", "clarify", "no_answer"]


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    """Every knob of retrieval. The defaults were chosen on the English dev sets (banking77, clinc150)."""

    # fusion of the per-entry scores
    vector_weight: float = 10.0
    lexical_weight: float = 2.0
    classifier_weight: float = 1.0
    classifier_c: float = 1.0
    classifier_max_questions: int = 8000  # above this the KB is too big to refit on every edit
    classifier_min_questions_per_entry: float = 1.5  # one question per entry leaves nothing to learn
    # confidence = sigmoid(bias + share_weight * share + similarity_weight * (similarity - 0.85))
    # where share = softmax(fused / temperature)[top] and similarity = best raw cosine of the top entry.
    # Chosen with benchmarks/faq_tune.py: answer iff share + 4 * (similarity - 1.09) >= 0.
    temperature: float = 1.0
    confidence_bias: float = -5.76
    confidence_share_weight: float = 6.0
    confidence_similarity_weight: float = 24.0
    # decisions
    answer_threshold: float = 0.5
    clarify_threshold: float = 0.25
    clarify_share_ratio: float = 0.35  # a runner-up this close to the top (in share) is offered too
    ambiguous_share_ratio: float = 0.6  # a runner-up this close means "ask which one", even if confident
    max_clarify_candidates: int = 3
    candidates: int = 5

    def ranking_weights(self) -> RankingWeights:
        return RankingWeights(
            vector=self.vector_weight,
            lexical=self.lexical_weight,
            classifier=self.classifier_weight,
            classifier_max_questions=self.classifier_max_questions,
            classifier_min_questions_per_entry=self.classifier_min_questions_per_entry,
            classifier_c=self.classifier_c,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    faq_id: str
    score: float


@dataclass(slots=True)
class Retrieval:
    decision: Decision
    faq_id: str | None  # set only when decision == "answer"
    top: str | None
    score: float  # calibrated confidence of `top`, 0..1
    candidates: list[Candidate] = field(default_factory=list)

    @classmethod
    def nothing(cls) -> Retrieval:
        return cls(decision="no_answer", faq_id=None, top=None, score=0.0, candidates=[])


def decide(scores: EntryScores, entry_ids: list[str], settings: RetrievalSettings) -> Retrieval:
    if not entry_ids:
        return Retrieval.nothing()
    count = min(settings.candidates, len(entry_ids))
    best = np.argpartition(-scores.fused, count - 1)[:count] if count < len(entry_ids) else np.arange(count)
    best = best[np.argsort(-scores.fused[best], kind="stable")]
    shares = _shares(scores.fused, best, settings.temperature)
    confidences = [
        _confidence(float(share), float(scores.similarity[index]), settings)
        for share, index in zip(shares, best, strict=True)
    ]
    candidates = [Candidate(entry_ids[index], round(conf, 4)) for index, conf in zip(best, confidences, strict=True)]
    top = candidates[0]
    ambiguous = len(shares) > 1 and shares[1] >= settings.ambiguous_share_ratio * shares[0]
    if top.score >= settings.answer_threshold and not ambiguous:
        return Retrieval("answer", top.faq_id, top.faq_id, top.score, candidates)
    close = [
        candidate
        for candidate, share in zip(candidates, shares, strict=True)
        if share >= settings.clarify_share_ratio * shares[0]
    ][: settings.max_clarify_candidates]
    # Clarify only when the runners-up would have been confident answers had the top one not existed.
    group_confidence = _confidence(float(sum(shares[: len(close)])), float(scores.similarity[best[0]]), settings)
    if len(close) >= 2 and group_confidence >= settings.answer_threshold and top.score >= settings.clarify_threshold:
        return Retrieval("clarify", None, top.faq_id, top.score, close)
    return Retrieval("no_answer", None, top.faq_id, top.score, candidates)


def _shares(fused: np.ndarray, best: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax share of each of `best` among all entries (computed stably over the full vector)."""
    scaled = fused / max(temperature, 1e-6)
    peak = scaled[best[0]]
    total = float(np.exp(scaled - peak).sum())
    return np.exp(scaled[best] - peak) / total


def _confidence(share: float, similarity: float, settings: RetrievalSettings) -> float:
    logit = (
        settings.confidence_bias
        + settings.confidence_share_weight * share
        + settings.confidence_similarity_weight * (similarity - 0.85)
    )
    return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))
