"""A one-line emotion trend for agents; uses bot.emotion.profile's when it is there, else a small local one."""

from __future__ import annotations

from collections.abc import Sequence

from bot.handoff.complaint import NEGATIVE_LABELS

BARS = "▁▂▃▄▅▆▇█"


def emotion_sparkline(emotions: Sequence[tuple[str | None, float | None]]) -> str:
    """One bar per customer message: higher means more negative; joy and neutral stay at the bottom."""
    try:
        from bot.emotion.profile import sparkline  # the emotion package's own, when it has landed
    except ImportError:
        sparkline = None
    if sparkline is not None:
        try:
            return str(sparkline([(label or "neutral", intensity or 0.0) for label, intensity in emotions]))
        except TypeError:
            pass  # a different signature: fall back to ours rather than fail a handoff
    return "".join(_bar(label, intensity) for label, intensity in emotions)


def _bar(label: str | None, intensity: float | None) -> str:
    if label not in NEGATIVE_LABELS:
        return BARS[0]
    level = min(1.0, max(0.0, intensity or 0.0))
    return BARS[min(len(BARS) - 1, 1 + int(level * (len(BARS) - 1)))]
