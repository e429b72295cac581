"""Scores every FAQ entry against one query: dense similarity + BM25 + a classifier head, fused.

Built once per KB version (cheap except the classifier, which is capped for huge KBs) and then
read-only, so searches need no locking.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from knowledge.lexical import Bm25Index

_MIN_QUESTIONS_TO_CENTER = 50
_MIN_ENTRIES_FOR_CLASSIFIER = 10


@dataclass(frozen=True, slots=True)
class RankingWeights:
    vector: float
    lexical: float
    classifier: float
    classifier_max_questions: int
    classifier_min_questions_per_entry: float
    classifier_c: float


@dataclass(slots=True)
class EntryScores:
    fused: np.ndarray  # (n_entries,) higher is better
    similarity: np.ndarray  # (n_entries,) best raw cosine between the query and the entry's questions
    lexical: np.ndarray  # (n_entries,) best normalised BM25 (≈1 = every query term matched)


class Ranker:
    def __init__(
        self,
        vectors: np.ndarray,
        tokens: list[list[str]],
        owner: np.ndarray,
        n_entries: int,
        weights: RankingWeights,
    ) -> None:
        """`vectors`/`tokens` hold one row per question; `owner` maps each row to its entry index and
        must be sorted (questions of an entry are contiguous)."""
        self.n_entries = n_entries
        self._weights = weights
        self._owner = owner
        self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
        self._raw = np.ascontiguousarray(vectors, dtype=np.float32)
        # e5 vectors share a large common direction; removing the KB mean spreads them out. A tiny KB's
        # mean is mostly its own topic, and removing it would exaggerate small differences.
        big_enough = len(self._raw) >= _MIN_QUESTIONS_TO_CENTER
        self._mean = self._raw.mean(axis=0) if big_enough else np.zeros(vectors.shape[1], np.float32)
        self._centered = _unit_rows(self._raw - self._mean)
        self._bm25 = Bm25Index(tokens)
        self._classifier = self._fit_classifier() if self._classifier_wanted() else None

    @property
    def has_classifier(self) -> bool:
        return self._classifier is not None

    def score(self, query_tokens: list[str], query_vector: np.ndarray) -> EntryScores:
        query_vector = np.asarray(query_vector, dtype=np.float32)
        raw_similarity = self._per_entry_max(self._raw @ query_vector)
        centered_query = _unit_rows((query_vector - self._mean)[None, :])[0]
        centered_similarity = self._per_entry_max(self._centered @ centered_query)
        lexical = self._per_entry_max(self._bm25.scores(query_tokens) / max(self._bm25.max_score(query_tokens), 1e-6))
        weights = self._weights
        fused = weights.vector * centered_similarity + weights.lexical * lexical
        if self._classifier is not None:
            fused = fused + weights.classifier * self._classifier_log_proba(centered_query)
        return EntryScores(fused=fused, similarity=raw_similarity, lexical=lexical)

    def _per_entry_max(self, per_question: np.ndarray) -> np.ndarray:
        if not len(per_question):
            return np.zeros(self.n_entries, dtype=np.float32)
        return np.maximum.reduceat(per_question, self._starts).astype(np.float32, copy=False)

    def _classifier_wanted(self) -> bool:
        weights = self._weights
        n_questions = len(self._owner)
        return (
            weights.classifier > 0
            and self.n_entries >= _MIN_ENTRIES_FOR_CLASSIFIER
            and n_questions <= weights.classifier_max_questions
            and n_questions >= weights.classifier_min_questions_per_entry * self.n_entries
        )

    def _fit_classifier(self):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        self._scale = self._centered.std(axis=0) + 1e-6
        model = LogisticRegression(C=self._weights.classifier_c, max_iter=200)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(self._centered / self._scale, self._owner)
        self._coef = model.coef_.astype(np.float32)
        self._intercept = model.intercept_.astype(np.float32)
        if self._coef.shape[0] == 1:  # binary case: sklearn keeps one row
            self._coef = np.vstack([-self._coef, self._coef]) / 2
            self._intercept = np.r_[-self._intercept, self._intercept] / 2
        return model

    def _classifier_log_proba(self, centered_query: np.ndarray) -> np.ndarray:
        logits = self._coef @ (centered_query / self._scale) + self._intercept
        logits = logits - logits.max()
        return (logits - np.log(np.exp(logits).sum())).astype(np.float32)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
