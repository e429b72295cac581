"""Emotion tagging of customer messages: `default_tagger()` is what the engine uses."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.emotion.base import LABELS, NEGATIVE_LABELS, ConversationContext, EmotionTag, EmotionTagger, PastTurn

__all__ = [
    "LABELS",
    "NEGATIVE_LABELS",
    "ConversationContext",
    "EmotionTag",
    "EmotionTagger",
    "PastTurn",
    "default_tagger",
    "load_tagger",
]


def load_tagger(model_path: Path | None = None) -> EmotionTagger:
    """A tagger over the model at `model_path` (default: the shipped bot/emotion/data/emotion_model.npz)."""
    from bot.emotion.model import MODEL_PATH, load_model
    from bot.emotion.tagger import EmbeddingCueTagger

    return EmbeddingCueTagger(load_model(model_path or MODEL_PATH))


@lru_cache(maxsize=1)
def default_tagger() -> EmotionTagger:
    """The shipped tagger, loaded once per process; it embeds the text itself only when not given a vector."""
    return load_tagger()
