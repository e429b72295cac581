"""What the conversation adds to one message's emotion, and the emotion of a conversation as a whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.emotion.base import NEGATIVE_LABELS, ConversationContext, EmotionTag, PastTurn

MAX_COMPARED_CHARS = 300
_NOT_TEXT = re.compile(r"[\W_]+")
# Phrases in which the customer says they are asking again.
REPEAT_PHRASES = (
    "third time",
    "second time",
    "again and again",
    "asked before",
    "already asked",
    "i already told you",
    "how many times",
    "once again",
    "for the last time",
    "still no answer",
    "keep asking",
    "问了好几遍",
    "问了几遍",
    "问了三遍",
    "问了两遍",
    "说了多少遍",
    "说了好几遍",
    "再问一遍",
    "再问一次",
    "又问",
    "第三次",
    "第二次",
    "第几次",
    "一直问",
    "重复",
    "还是没回答",
    "说过了",
)
NOT_HELPED_DECISIONS = frozenset({"abstain", "fallback", "clarify", "no_answer", "unanswered", "handoff", "escalate"})


@dataclass(frozen=True, slots=True)
class ContextRules:
    """Thresholds for raising a message's intensity from its conversation (defaults are conservative)."""

    repeat_similarity: float = 0.6
    repeat_boost: float = 0.15
    relabel_neutral_after_repeats: int | None = 2
    long_wait_seconds: float = 600.0
    very_long_wait_seconds: float = 3600.0
    long_wait_boost: float = 0.1
    streak_boost: float = 0.05
    not_helped_boost: float = 0.1


@dataclass(frozen=True, slots=True)
class ConversationEmotion:
    label: str
    intensity: float
    trend: str  # "worsening", "improving" or "steady" (valence of the later half vs the earlier half)
    at_risk: bool
    negative_streak: int


def _bigrams(text: str) -> frozenset[str]:
    compact = _NOT_TEXT.sub("", text.lower())[:MAX_COMPARED_CHARS]
    if len(compact) < 2:
        return frozenset({compact}) if compact else frozenset()
    return frozenset(compact[i : i + 2] for i in range(len(compact) - 1))


def _similarity(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def repeat_count(text: str, recent: Sequence[PastTurn], threshold: float = 0.6) -> int:
    """How many earlier turns ask (nearly) the same thing as `text`."""
    current = _bigrams(text)
    if len(current) < 2:
        return 0
    return sum(1 for turn in recent if _similarity(current, _bigrams(turn.text)) >= threshold)


def says_repeated(text: str) -> bool:
    lowered = (text or "")[:2000].lower()
    return any(phrase in lowered for phrase in REPEAT_PHRASES)


def negative_streak(labels: Sequence[str]) -> int:
    """Consecutive negative labels at the end of `labels`."""
    streak = 0
    for label in reversed(labels):
        if label not in NEGATIVE_LABELS:
            break
        streak += 1
    return streak


def apply_context(
    tag: EmotionTag, text: str, context: ConversationContext | None, rules: ContextRules = ContextRules()
) -> EmotionTag:
    """Raise intensity and add signals from the conversation; the label changes only on a repeated question."""
    if context is None:
        return tag
    label, intensity, signals = tag.label, tag.intensity, list(tag.signals)

    repeats = repeat_count(text, context.recent, rules.repeat_similarity)
    if repeats or (says_repeated(text) and context.recent):
        repeats = max(repeats, 1)
        signals.insert(0, "repeated question" if repeats == 1 else f"repeated question x{repeats + 1}")
        if (
            label == "neutral"
            and rules.relabel_neutral_after_repeats
            and repeats >= rules.relabel_neutral_after_repeats
        ):
            label, intensity = "anger", 0.5
        intensity += rules.repeat_boost * min(repeats, 2)

    not_helped = sum(1 for turn in context.recent if (turn.bot_decision or "").lower() in NOT_HELPED_DECISIONS)
    if not_helped >= 2:
        signals.append(f"bot did not help x{not_helped}")
        intensity += rules.not_helped_boost

    wait = context.seconds_since_last_reply
    if wait is not None and wait >= rules.long_wait_seconds:
        signals.append(f"long wait ({int(wait // 60)} min)")
        if label in NEGATIVE_LABELS:
            intensity += rules.long_wait_boost * (2 if wait >= rules.very_long_wait_seconds else 1)

    streak = negative_streak([turn.label for turn in context.recent])
    if streak >= 2 and label in NEGATIVE_LABELS:
        signals.append(f"negative streak {streak + 1}")
        intensity += rules.streak_boost * min(streak, 3)

    ceiling = 0.3 if label == "neutral" else 1.0
    return replace(tag, label=label, intensity=round(min(intensity, ceiling), 3), signals=tuple(signals))


def valence(label: str, intensity: float) -> float:
    """-1 (strongly negative) … +1 (strongly positive); neutral is 0."""
    if label in NEGATIVE_LABELS:
        return -intensity
    if label == "joy":
        return intensity
    return 0.0


def conversation_state(
    turns: Sequence[PastTurn | EmotionTag], at_risk_streak: int = 3, window: int = 5
) -> ConversationEmotion:
    """Emotion of a whole conversation from its tagged customer turns, oldest first (pure)."""
    if not turns:
        return ConversationEmotion("neutral", 0.0, "steady", False, 0)
    recent = list(turns)[-window:]
    weights: dict[str, float] = {}
    for age, turn in enumerate(reversed(recent)):
        if turn.label != "neutral":
            weights[turn.label] = weights.get(turn.label, 0.0) + turn.intensity * 0.7**age
    label = max(weights, key=weights.__getitem__) if weights else "neutral"
    matching = [turn.intensity for turn in recent if turn.label == label]
    intensity = round(max([*matching[-1:], sum(matching) / len(matching)]), 3) if matching else 0.0

    values = [valence(turn.label, turn.intensity) for turn in recent]
    half = max(len(values) // 2, 1)
    change = sum(values[-half:]) / half - sum(values[:half]) / half if len(values) >= 2 else 0.0
    trend = "worsening" if change <= -0.2 else "improving" if change >= 0.2 else "steady"

    streak = negative_streak([turn.label for turn in turns])
    last = turns[-1]
    at_risk = streak >= at_risk_streak or (last.label == "anger" and last.intensity >= 0.85)
    return ConversationEmotion(label, intensity, trend, at_risk, streak)
