"""Is this the same question again? Character-bigram overlap works for Chinese and English alike."""

from __future__ import annotations

import re

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _bigrams(text: str) -> set[str]:
    compact = _NOT_WORD.sub("", text.lower())
    if len(compact) < 2:
        return {compact} if compact else set()
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def text_similarity(first: str, second: str) -> float:
    """Jaccard overlap of character bigrams, 0..1."""
    a, b = _bigrams(first), _bigrams(second)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
