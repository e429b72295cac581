"""The ranking of a large KB, whose search estimates most dot products before computing the closest exactly."""

from __future__ import annotations

import copy

import numpy as np

from knowledge.decision import RetrievalSettings
from knowledge.ranking import _COARSE_MIN_QUESTIONS, Ranker

DIM = 384


def _sentence_like_vectors(rng: np.random.Generator, n: int, topics: np.ndarray) -> np.ndarray:
    """Unit vectors made of a few topic directions plus a little of everything else, as embeddings are."""
    vectors = (rng.normal(size=(n, len(topics))) ** 3) @ topics + 0.15 * rng.normal(size=(n, DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_a_large_kb_ranks_its_entries_as_the_exact_search_does():
    rng = np.random.default_rng(7)
    topics = rng.normal(size=(40, DIM))
    n = _COARSE_MIN_QUESTIONS + 500
    vectors = _sentence_like_vectors(rng, n, topics)
    tokens = [[f"w{i % 97}", f"w{i % 89}"] for i in range(n)]
    estimated = Ranker(vectors, tokens, np.arange(n), n, RetrievalSettings().ranking_weights())
    exact = copy.copy(estimated)
    exact._projected = None  # every dot product computed
    assert estimated._projected is not None

    for query in [*vectors[rng.permutation(n)[:20]], *_sentence_like_vectors(rng, 20, topics)]:
        fast, slow = estimated.score(["w3", "w5"], query), exact.score(["w3", "w5"], query)
        top = np.argsort(-slow.fused)[:10]
        assert list(np.argsort(-fast.fused)[:10]) == list(top)
        np.testing.assert_allclose(fast.fused[top], slow.fused[top], rtol=1e-5, atol=1e-6)
