"""The default emotion tagger: shipped softmax model over the engine's embedding plus surface cues."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bot.emotion.base import ConversationContext, EmotionTag
from bot.emotion.context import apply_context
from bot.emotion.cues import CueReport, extract_cues
from bot.emotion.model import LinearEmotionModel

MAX_SIGNALS = 6
MAX_EMBEDDED_CHARS = 1000  # e5 reads at most 512 tokens; longer input only slows the embedder down
# Cues strong enough to overrule a "neutral" from the model (shouting, swearing, an angry emoji).
ANGER_OVERRIDE_FEATURES = frozenset({"all_caps", "profanity", "emoji_anger"})
EMOJI_LABELS = {"emoji_anger": "anger", "emoji_anxiety": "anxiety", "emoji_sadness": "sadness", "emoji_joy": "joy"}
# How much each cue adds to the intensity of a non-neutral label it supports.
INTENSITY_BOOSTS = {
    "exclamation": 0.10,
    "question_run": 0.05,
    "all_caps": 0.10,
    "profanity": 0.15,
    "complaint": 0.15,
    "urgency": 0.05,
    "negated_praise": 0.05,
}
EMOJI_BOOST = 0.05
LEXICON_BOOST = 0.05

Embed = Callable[[str], np.ndarray]


class EmbeddingCueTagger:
    """Label = argmax of the shipped model; intensity = its confidence raised by cues and context."""

    def __init__(self, model: LinearEmotionModel, embed: Embed | None = None) -> None:
        self._model = model
        self._embed = embed

    def probabilities(self, text: str, embedding: np.ndarray | None = None) -> dict[str, float]:
        """The model's probability for each label (no context), e.g. for a benchmark or a debug view."""
        probabilities, _ = self._score(text, embedding)
        return dict(zip(self._model.labels, (float(p) for p in probabilities), strict=True))

    def tag(
        self,
        text: str,
        embedding: np.ndarray | None = None,
        context: ConversationContext | None = None,
    ) -> EmotionTag:
        text = text if isinstance(text, str) else ""
        probabilities, report = self._score(text, embedding)
        best = int(np.argmax(probabilities))
        label = _overruled_label(self._model.labels[best], text, report)
        confidence = float(probabilities[self._model.labels.index(label)])
        message_tag = EmotionTag(
            label=label,
            intensity=_intensity(label, confidence, report),
            signals=_signals(label, confidence, report),
        )
        return apply_context(message_tag, text, context) if context is not None else message_tag

    def _score(self, text: str, embedding: np.ndarray | None) -> tuple[np.ndarray, CueReport]:
        if embedding is None:
            embedding = self._embedding_of(text)
        report = extract_cues(text)
        return self._model.probabilities(embedding, report.features), report

    def _embedding_of(self, text: str) -> np.ndarray:
        if self._embed is None:
            from knowledge.embedder import shared_embedder

            self._embed = shared_embedder().query
        return self._embed(text[:MAX_EMBEDDED_CHARS])


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text[:MAX_EMBEDDED_CHARS])


def _overruled_label(label: str, text: str, report: CueReport) -> str:
    """Surface cues the embedding cannot see win in two cases: symbol-only messages and neutral + shouting."""
    found = {cue.feature for cue in report.cues}
    if not _has_words(text):
        emoji_labels = [EMOJI_LABELS[f] for f in EMOJI_LABELS if f in found]
        return emoji_labels[0] if emoji_labels else "neutral"
    if label == "neutral" and found & ANGER_OVERRIDE_FEATURES:
        return "anger"
    return label


def _intensity(label: str, confidence: float, report: CueReport) -> float:
    if label == "neutral":
        return round(0.1 + 0.2 * (1.0 - confidence), 3)
    value = 0.25 + 0.5 * confidence
    for cue in report.cues:
        if label not in cue.supports:
            continue
        if cue.feature in INTENSITY_BOOSTS:
            value += INTENSITY_BOOSTS[cue.feature]
        elif cue.feature.startswith("emoji_"):
            value += EMOJI_BOOST
        else:
            value += LEXICON_BOOST
    return round(min(value, 1.0), 3)


def _signals(label: str, confidence: float, report: CueReport) -> tuple[str, ...]:
    supporting = [cue.signal for cue in report.cues if label in cue.supports]
    signals = [*supporting, f"model:{label} {confidence:.2f}"] if supporting or confidence >= 0.2 else supporting
    return tuple(signals[:MAX_SIGNALS])
