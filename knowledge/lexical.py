"""Chinese-aware tokenisation and a sparse BM25 index over FAQ questions.

Chinese runs are cut with jieba and also contribute character bigrams, so that a word jieba splits
differently in the query and in the question (花呗 vs 花/呗) still matches. Latin text is lower-cased and
lightly stemmed. BM25 weights are precomputed into a sparse matrix: a query costs one column gather.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

TOKENIZER_VERSION = "1"

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORD_TEXT = (
    "a an the and or of to in on at for is are was were be been am i me my we our you your it its "
    "this that there do does did can could would should will with from by as if so"
)
_ENGLISH_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: jieba words + CJK bigrams for Chinese, stemmed lower-case words for the rest."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    tokens: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        tokens.extend(_latin_tokens(text[position : run.start()]))
        tokens.extend(_chinese_tokens(run.group()))
        position = run.end()
    tokens.extend(_latin_tokens(text[position:]))
    return tokens


def _latin_tokens(text: str) -> Iterable[str]:
    for word in _LATIN_WORD.findall(text):
        word = word.replace("'", "")
        if word not in _ENGLISH_STOPWORDS:
            yield _stem(word)


def _stem(word: str) -> str:
    """A deliberately tiny suffix stripper: enough to match card/cards, charged/charge, topping/top."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            if keep == "" and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]  # stopped -> stop, topping -> top
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]  # charge/charg(ed): make both forms meet
    return word


def _chinese_tokens(run: str) -> list[str]:
    words = [w for w in _jieba().lcut(run) if w.strip()]
    bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
    if len(run) == 1:
        return [run]
    return words + ["#" + b for b in bigrams]


_JIEBA = None


def _jieba():
    global _JIEBA
    if _JIEBA is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA = jieba
    return _JIEBA


class Bm25Index:
    """BM25 (Okapi) over a list of token lists; `scores(tokens)` returns one score per document."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[float] = []
        lengths = np.zeros(len(documents), dtype=np.float32)
        for row, tokens in enumerate(documents):
            lengths[row] = len(tokens)
            term_counts: dict[int, int] = {}
            for token in tokens:
                column = self.vocabulary.setdefault(token, len(self.vocabulary))
                term_counts[column] = term_counts.get(column, 0) + 1
            rows.extend([row] * len(term_counts))
            cols.extend(term_counts.keys())
            counts.extend(term_counts.values())
        n_docs = max(len(documents), 1)
        tf = np.asarray(counts, dtype=np.float32)
        row_index = np.asarray(rows, dtype=np.int64)
        col_index = np.asarray(cols, dtype=np.int64)
        document_frequency = np.bincount(col_index, minlength=len(self.vocabulary)).astype(np.float32)
        idf = np.log1p((n_docs - document_frequency + 0.5) / (document_frequency + 0.5))
        average_length = float(lengths.mean()) if len(documents) else 1.0
        norm = k1 * (1 - b + b * lengths[row_index] / max(average_length, 1e-6))
        weights = idf[col_index] * tf * (k1 + 1) / (tf + norm)
        self._matrix = sparse.csc_matrix(
            (weights, (row_index, col_index)), shape=(len(documents), len(self.vocabulary)), dtype=np.float32
        )
        self._idf = idf
        self.size = len(documents)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        columns = [self.vocabulary[t] for t in tokens if t in self.vocabulary]
        if not columns:
            return np.zeros(self.size, dtype=np.float32)
        unique, repeats = np.unique(np.asarray(columns), return_counts=True)
        gathered = self._matrix[:, unique] @ repeats.astype(np.float32)
        return np.asarray(gathered, dtype=np.float32).ravel()

    def max_score(self, tokens: Sequence[str]) -> float:
        """Score a document made of exactly the query's tokens would get: a scale for normalising."""
        columns = {self.vocabulary[t] for t in tokens if t in self.vocabulary}
        return float(sum(self._idf[c] for c in columns))
