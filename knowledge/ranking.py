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
# A large KB's search reads every question vector (30 MB for 20,000), which costs more than all the rest of the
# scoring. There, the dot products are first estimated in a 128-dimension projection (the principal directions
# of the KB's questions) and only the rows that estimate puts near the top are computed exactly. On the 20k
# ATEC KB the exact top 20 is inside the refined 1,024 rows for 99.97 % of its entries (400 dev queries).
_COARSE_MIN_QUESTIONS = 5000
_COARSE_DIMENSIONS = 128
_COARSE_REFINED_ROWS = 1024
_COARSE_FIT_SAMPLE = 5000
_MIN_ENTRIES_FOR_CLASSIFIER = 10
_BIGRAM_MARK = "#"  # knowledge.lexical marks CJK character-bigram tokens with this prefix


@dataclass(frozen=True, slots=True)
class RankingWeights:
    vector: float  # best centred cosine over the entry's questions
    vector_mean: float  # average centred cosine over the entry's questions
    lexical: float
    classifier: float
    classifier_max_questions: int
    classifier_min_questions_per_entry: float
    classifier_c: float

    def wants_classifier(self, n_questions: int, n_entries: int) -> bool:
        return (
            self.classifier > 0
            and n_entries >= _MIN_ENTRIES_FOR_CLASSIFIER
            and n_questions <= self.classifier_max_questions
            and n_questions >= self.classifier_min_questions_per_entry * n_entries
        )


@dataclass(slots=True)
class EntryScores:
    fused: np.ndarray  # (n_entries,) higher is better
    similarity: np.ndarray  # (n_entries,) best raw cosine between the query and the entry's questions
    lexical: np.ndarray  # (n_entries,) best normalised BM25 (≈1 = every query term matched)
    logits: np.ndarray | None = None  # (n_entries,) classifier logits, when the KB has a classifier
    probability: np.ndarray | None = None  # (n_entries,) classifier softmax
    query_words: int = 0  # distinct words in the query (CJK bigrams not counted), stop words left out
    question_dots: np.ndarray | None = None  # (n_questions,) raw q_i · query, for knowledge.elsewhere


class Ranker:
    def __init__(
        self,
        vectors: np.ndarray,
        tokens: list[list[str]],
        owner: np.ndarray,
        n_entries: int,
        weights: RankingWeights,
        passage_vectors: np.ndarray | None = None,
        with_classifier: bool | None = None,
    ) -> None:
        """`vectors`/`tokens` hold one row per question; `owner` maps each row to its entry index and
        must be sorted (questions of an entry are contiguous). `passage_vectors` (rows with a
        finite first value, aligned with `vectors`) are the questions' "passage:" views: extra training
        points for the classifier only. `with_classifier` overrides the weights' size rule."""
        self.n_entries = n_entries
        self._weights = weights
        self._owner = owner
        self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
        self._counts = np.bincount(owner, minlength=n_entries).astype(np.float32)
        self._raw = np.ascontiguousarray(vectors, dtype=np.float32)
        # e5 vectors share a large common direction; removing the KB mean spreads them out. A tiny KB's
        # mean is mostly its own topic, and removing it would exaggerate small differences.
        big_enough = len(self._raw) >= _MIN_QUESTIONS_TO_CENTER
        self._mean = self._raw.mean(axis=0) if big_enough else np.zeros(vectors.shape[1], np.float32)
        # Centred cosines are derived from the raw dot products, so a search reads the vectors once
        # (memory bandwidth is most of a large KB's search time).
        self._row_dot_mean = self._raw @ self._mean
        self._mean_dot_mean = float(self._mean @ self._mean)
        self._inverse_norms = (1 / np.maximum(np.linalg.norm(self._raw - self._mean, axis=1), 1e-12)).astype(np.float32)
        self._basis, self._projected = _coarse_projection(self._raw, self._mean)
        self._bm25 = Bm25Index(tokens)
        self._coef: np.ndarray | None = None
        if with_classifier if with_classifier is not None else weights.wants_classifier(len(owner), n_entries):
            self._fit_classifier(passage_vectors)

    @property
    def has_classifier(self) -> bool:
        return self._coef is not None

    def score(self, query_tokens: list[str], query_vector: np.ndarray) -> EntryScores:
        query_vector = np.asarray(query_vector, dtype=np.float32)
        mean_dot_query = float(self._mean @ query_vector)
        raw = self._dot_products(query_vector, mean_dot_query)
        raw_similarity = self._per_entry_max(raw)
        shifted_query = query_vector - self._mean
        query_norm = max(float(np.linalg.norm(shifted_query)), 1e-12)
        centered_query = shifted_query / query_norm
        # (q_i - m)·(q - m) = q_i·q - q_i·m - m·q + m·m, then divided by both norms; in place, one pass each
        centered = raw - self._row_dot_mean
        centered += self._mean_dot_mean - mean_dot_query
        centered *= self._inverse_norms
        centered /= query_norm
        lexical = self._per_entry_max(self._bm25.scores(query_tokens) / max(self._bm25.max_score(query_tokens), 1e-6))
        weights = self._weights
        query_words = len({token for token in query_tokens if not token.startswith(_BIGRAM_MARK)})
        fused = (
            weights.vector * self._per_entry_max(centered)
            + weights.vector_mean * self._per_entry_mean(centered)
            + weights.lexical * lexical
        )
        if self._coef is None:
            return EntryScores(fused, raw_similarity, lexical, query_words=query_words, question_dots=raw)
        logits = self._coef @ (centered_query / self._scale) + self._intercept
        shifted = logits - logits.max()
        log_proba = shifted - np.log(np.exp(shifted).sum())
        fused = fused + weights.classifier * log_proba
        probability = np.exp(log_proba)
        return EntryScores(fused, raw_similarity, lexical, logits.astype(np.float32), probability, query_words, raw)

    def _dot_products(self, query_vector: np.ndarray, mean_dot_query: float) -> np.ndarray:
        """q_i·q for every question: exact, or (large KB) estimated, then exact for the rows near the top."""
        if self._projected is None:
            return self._raw @ query_vector
        raw = self._projected @ (self._basis @ query_vector)  # ≈ (q_i - m)·q
        raw += mean_dot_query
        # The rows ranked by their estimated centred cosine, as in `score`, up to a shared constant
        estimate = (raw - self._row_dot_mean + (self._mean_dot_mean - mean_dot_query)) * self._inverse_norms
        near = np.argpartition(-estimate, _COARSE_REFINED_ROWS)[:_COARSE_REFINED_ROWS]
        raw[near] = self._raw[near] @ query_vector
        return raw

    def _per_entry_max(self, per_question: np.ndarray) -> np.ndarray:
        if not len(per_question):
            return np.zeros(self.n_entries, dtype=np.float32)
        return np.maximum.reduceat(per_question, self._starts).astype(np.float32, copy=False)

    def _per_entry_mean(self, per_question: np.ndarray) -> np.ndarray:
        if not len(per_question):
            return np.zeros(self.n_entries, dtype=np.float32)
        return (np.add.reduceat(per_question, self._starts) / self._counts).astype(np.float32, copy=False)

    def _fit_classifier(self, passage_vectors: np.ndarray | None) -> None:
        """Softmax regression on the standardised centred vectors of every question view."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        centered = _unit_rows(self._raw - self._mean)
        features, labels = centered, self._owner
        if passage_vectors is not None and len(passage_vectors):
            present = np.isfinite(passage_vectors[:, 0])
            passage = _unit_rows(passage_vectors[present] - self._mean)
            features, labels = np.vstack([features, passage]), np.r_[labels, self._owner[present]]
        self._scale = centered.std(axis=0) + 1e-6
        model = LogisticRegression(C=self._weights.classifier_c, max_iter=200)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features / self._scale, labels)
        coef = model.coef_.astype(np.float32)
        intercept = model.intercept_.astype(np.float32)
        if coef.shape[0] == 1:  # binary case: sklearn keeps one row
            coef, intercept = np.vstack([-coef, coef]) / 2, np.r_[-intercept, intercept] / 2
        self._coef, self._intercept = coef, intercept


def _coarse_projection(raw: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(basis (k, dim), rows projected on it (n, k)) for a large KB; (None, None) otherwise."""
    if len(raw) < _COARSE_MIN_QUESTIONS:
        return None, None
    sample = np.random.default_rng(0).permutation(len(raw))[:_COARSE_FIT_SAMPLE]
    _, _, directions = np.linalg.svd(raw[sample] - mean, full_matrices=False)
    basis = np.ascontiguousarray(directions[:_COARSE_DIMENSIONS], dtype=np.float32)
    return basis, np.ascontiguousarray((raw - mean) @ basis.T, dtype=np.float32)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
