"""Questions that belong elsewhere: a query much closer to a background of everyday off-topic questions (the
weather, homework, other companies' apps) than to anything in the KB is out of scope.

The comparison is relative, so it adapts to each KB: a travel agency whose KB has visa questions still wins on
visa questions, because its own entries are closer than the background's visa line. Both sides are compared as
cosines centred on the mean of the KB's questions and the background together (raw e5 cosines sit in a narrow
band for everything). The KB side reuses the dot products the ranker already computed for the query, so a search
costs one extra (background size × 384) product and no second embedding.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BACKGROUND_ID = "__elsewhere__"  # the pseudo-entry the background questions are stored under
DEFAULT_BACKGROUND_FILE = Path(__file__).parent / "data" / "elsewhere.toml"


def load_background(path: Path | str = DEFAULT_BACKGROUND_FILE) -> list[str]:
    """The questions of a background file: `questions = [...]` under one table per language ([en], [zh], ...).
    Raises ValueError naming the file and the problem."""
    try:
        with Path(path).expanduser().open("rb") as stream:
            data = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read the elsewhere file {path}: {error}") from error
    questions: list[str] = []
    for language, table in data.items():
        if not isinstance(table, dict) or set(table) != {"questions"}:
            raise ValueError(f"{path}: [{language}] must hold exactly one key, questions = [...]")
        listed = table["questions"]
        if not isinstance(listed, list) or not all(isinstance(question, str) for question in listed):
            raise ValueError(f"{path}: [{language}] questions must be a list of strings")
        questions.extend(question.strip() for question in listed if question.strip())
    return questions


@dataclass(frozen=True, slots=True)
class Background:
    mean: np.ndarray  # (dim,) mean of the KB's questions and the background's
    mean_dot_mean: float
    background: np.ndarray  # (n_background, dim) unit rows, centred on `mean`
    kb_row_dot_mean: np.ndarray  # (n_kb_questions,) q_i · mean
    kb_inverse_norms: np.ndarray  # (n_kb_questions,) 1 / |q_i - mean|

    @classmethod
    def fit(cls, kb_vectors: np.ndarray, background_vectors: np.ndarray) -> Background | None:
        """None when either side is empty (nothing to compare)."""
        if not len(kb_vectors) or not len(background_vectors):
            return None
        kb_vectors = np.asarray(kb_vectors, dtype=np.float32)
        background_vectors = np.asarray(background_vectors, dtype=np.float32)
        mean = np.vstack([kb_vectors, background_vectors]).mean(axis=0).astype(np.float32)
        shifted = background_vectors - mean
        background = shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-12)
        kb_norms = np.linalg.norm(kb_vectors - mean, axis=1)
        return cls(
            mean,
            float(mean @ mean),
            np.ascontiguousarray(background, dtype=np.float32),
            (kb_vectors @ mean).astype(np.float32),
            (1 / np.maximum(kb_norms, 1e-12)).astype(np.float32),
        )

    def lead(self, query_vector: np.ndarray, kb_dots: np.ndarray) -> float:
        """How much closer the query is to the nearest background question than to the nearest KB question
        (centred cosines; > 0: closer to the background). `kb_dots` = q_i · query for every KB question."""
        query_vector = np.asarray(query_vector, dtype=np.float32)
        mean_dot_query = float(self.mean @ query_vector)
        shifted = query_vector - self.mean
        norm = max(float(np.linalg.norm(shifted)), 1e-12)
        nearest_background = float((self.background @ shifted).max()) / norm
        centred = (kb_dots - self.kb_row_dot_mean + (self.mean_dot_mean - mean_dot_query)) * self.kb_inverse_norms
        return nearest_background - float(centred.max()) / norm
