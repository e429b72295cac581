"""When the bot should step aside: each trigger is a small rule with its own setting and quoted evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot.handoff.complaint import NEGATIVE_LABELS, complaint_score
from bot.handoff.similarity import text_similarity
from bot.handoff.topics import compile_topics

DEFAULT_KEYWORDS = (
    "人工",
    "转人工",
    "真人",
    "客服",
    "人工客服",
    "找人",
    "human",
    "agent",
    "real person",
    "a person",
    "someone real",
    "representative",
    "operator",
    "live chat",
    "speak to someone",
    "talk to someone",
    "speak with someone",
    "talk with someone",
    "speak to a person",
    "actual person",
    "real human",
    "live agent",
    "转人共",  # the same pinyin (rengong) typed with a neighbouring character
    "转人公",
    "找真人",
    "supervisor",
    "manager",
)
DEFAULT_TOPICS = (
    "refund_dispute",
    "legal_threat",
    "account_security",
    "account_closure",
    "personal_safety",
    "bereavement",
)
FAILED_DECISIONS = frozenset({"no_answer", "clarify"})
NOT_HELPED = re.compile(
    r"(did ?n[o']?t help|does ?n[o']?t help|not helpful|no help|still (not|doesn't|does not|can't|cannot|isn't)|"
    r"not what i (asked|meant)|that's not it|does ?n[o']?t answer|same problem|you('re| are) not (listening|helping)|"
    r"还是不行|还是没|(?<!还)没用|没有用|没帮助|没有帮助|不是我问的|答非所问|依然|仍然|不管用|说了等于没说)",
    re.IGNORECASE,
)


class Reason:
    CUSTOMER_CHOICE = "customer_choice"
    EXPLICIT_REQUEST = "explicit_request"
    SENSITIVE_TOPIC = "sensitive_topic"
    ANGER = "anger"
    COMPLAINT = "complaint"
    NEGATIVE_TREND = "negative_trend"
    REPEATED_QUESTION = "repeated_question"
    FAILED_TURNS = "failed_turns"


@dataclass(frozen=True, slots=True)
class TriggerSettings:
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    anger_threshold: float = 0.75
    negative_window: int = 3
    negative_count: int = 2
    negative_min_intensity: float = 0.4
    failed_turns: int = 2
    repeat_similarity: float = 0.6
    sensitive_topics: tuple[str, ...] = DEFAULT_TOPICS
    # The business file's [sensitive.<topic>] phrases (every language's): topic -> phrases
    topic_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    complaint_threshold: float = 0.5
    # Anger this strong hands off even when the knowledge base has a confident answer for the message; below
    # it, an angry question the bot can answer is answered (measured on the conversation benchmark).
    anger_over_answer: float = 0.9
    vip_tiers: frozenset[str] = frozenset({"vip", "gold"})
    vip_discount: float = 0.15

    def for_tier(self, tier: str | None) -> TriggerSettings:
        """VIP customers reach a person sooner: every threshold lower by `vip_discount`, one failed turn fewer."""
        if (tier or "").lower() not in self.vip_tiers:
            return self
        return replace(
            self,
            anger_threshold=max(0.0, self.anger_threshold - self.vip_discount),
            negative_min_intensity=max(0.0, self.negative_min_intensity - self.vip_discount),
            complaint_threshold=max(0.0, self.complaint_threshold - self.vip_discount),
            failed_turns=max(1, self.failed_turns - 1),
        )


@dataclass(frozen=True, slots=True)
class EarlierTurn:
    """An earlier customer message, oldest first, with what the bot did about it."""

    text: str
    emotion: str = "neutral"
    intensity: float = 0.0
    bot_decision: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerInput:
    text: str
    emotion: str = "neutral"
    intensity: float = 0.0
    decision: str | None = None  # what the bot is about to do with this message
    earlier: tuple[EarlierTurn, ...] = ()
    tier: str | None = None
    chose_person: bool = False
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # the engine's query embedding


@dataclass(frozen=True, slots=True)
class TriggerHit:
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


class Triggers:
    def __init__(self, settings: TriggerSettings | None = None, asks: Callable[[str], bool] | None = None) -> None:
        """`asks`: whether a message asks something (the business file's [social] question words); a calm
        question is not corroboration enough for the complaint classifier (see `_corroborated`)."""
        self.settings = settings or TriggerSettings()
        self._asks = asks or (lambda text: False)
        self._topics = compile_topics(self.settings.sensitive_topics, self.settings.topic_phrases)
        self._keywords = keyword_pattern(self.settings.keywords)

    def asks_for_person(self, text: str) -> bool:
        """The message names a person / agent the way an explicit request does ("agent please", 转人工)."""
        return bool(self._keywords and self._keywords.search(text))

    def check(self, given: TriggerInput) -> TriggerHit | None:
        """The first trigger that fires, most explicit first; None when the bot should carry on."""
        settings = self.settings.for_tier(given.tier)
        for rule in (
            self._chose_person,
            self._explicit_request,
            self._sensitive_topic,
            self._anger,
            self._complaint,
            self._negative_trend,
            self._repeated_question,
            self._failed_turns,
        ):
            if hit := rule(given, settings):
                if settings is not self.settings:
                    hit.evidence["vip"] = True
                return hit
        return None

    def _chose_person(self, given: TriggerInput, _: TriggerSettings) -> TriggerHit | None:
        return TriggerHit(Reason.CUSTOMER_CHOICE, {"message": given.text}) if given.chose_person else None

    def _explicit_request(self, given: TriggerInput, _: TriggerSettings) -> TriggerHit | None:
        if self._keywords and (match := self._keywords.search(given.text)):
            return TriggerHit(Reason.EXPLICIT_REQUEST, {"message": given.text, "matched": match.group(0)})
        return None

    def _sensitive_topic(self, given: TriggerInput, _: TriggerSettings) -> TriggerHit | None:
        for topic, pattern in self._topics.items():
            if match := pattern.search(given.text):
                return TriggerHit(
                    Reason.SENSITIVE_TOPIC, {"message": given.text, "topic": topic, "matched": match.group(0)}
                )
        return None

    def _anger(self, given: TriggerInput, settings: TriggerSettings) -> TriggerHit | None:
        answerable = given.decision == "answer" and given.intensity < settings.anger_over_answer
        if given.emotion == "anger" and given.intensity >= settings.anger_threshold and not answerable:
            return TriggerHit(
                Reason.ANGER,
                {"message": given.text, "score": round(given.intensity, 3), "threshold": settings.anger_threshold},
            )
        return None

    def _complaint(self, given: TriggerInput, settings: TriggerSettings) -> TriggerHit | None:
        result = complaint_score(given.text, given.emotion, given.intensity, given.vector)
        if result.source == "model" and not _corroborated(given, result.cues, result.confident, self._asks):
            return None
        if given.decision == "answer" and not _grievance(given, result.cues, settings):
            return None  # a problem the knowledge base answers ("my router died") gets the answer
        if result.score >= settings.complaint_threshold:
            return TriggerHit(
                Reason.COMPLAINT,
                {
                    "message": given.text,
                    "score": result.score,
                    "threshold": settings.complaint_threshold,
                    "cues": result.cues,
                    "emotion": given.emotion,
                    "scored_by": result.source,
                },
            )
        return None

    def _negative_trend(self, given: TriggerInput, settings: TriggerSettings) -> TriggerHit | None:
        earlier = given.earlier[-(settings.negative_window - 1) :] if settings.negative_window > 1 else ()
        window = [(t.text, t.emotion, t.intensity) for t in earlier] + [(given.text, given.emotion, given.intensity)]
        negative = [
            {"message": text, "emotion": label, "score": round(intensity, 3)}
            for text, label, intensity in window
            if label in NEGATIVE_LABELS and intensity >= settings.negative_min_intensity
        ]
        current_is_negative = given.emotion in NEGATIVE_LABELS
        if current_is_negative and len(negative) >= settings.negative_count:
            return TriggerHit(
                Reason.NEGATIVE_TREND,
                {"message": given.text, "negative": negative, "window": len(window), "needed": settings.negative_count},
            )
        return None

    def _repeated_question(self, given: TriggerInput, settings: TriggerSettings) -> TriggerHit | None:
        if not given.earlier or given.earlier[-1].bot_decision is None:
            return None
        previous = given.earlier[-1]
        if given.decision == "answer":  # asked again, and this time the bot has a confident answer
            return None
        if match := NOT_HELPED.search(given.text):
            return TriggerHit(
                Reason.REPEATED_QUESTION,
                {"message": given.text, "matched": match.group(0), "previous": previous.text},
            )
        similarity = text_similarity(given.text, previous.text)
        if previous.bot_decision == "answer" and similarity >= settings.repeat_similarity:
            return TriggerHit(
                Reason.REPEATED_QUESTION,
                {"message": given.text, "previous": previous.text, "score": round(similarity, 3)},
            )
        return None

    def _failed_turns(self, given: TriggerInput, settings: TriggerSettings) -> TriggerHit | None:
        if given.decision not in FAILED_DECISIONS or not _has_words(given.text):
            return None
        needed_before = settings.failed_turns - 1
        before = given.earlier[-needed_before:] if needed_before else ()
        if len(before) < needed_before or any(
            t.bot_decision not in FAILED_DECISIONS or not _has_words(t.text) for t in before
        ):
            return None
        return TriggerHit(
            Reason.FAILED_TURNS,
            {"message": given.text, "failed": [t.text for t in before] + [given.text], "needed": settings.failed_turns},
        )


def _has_words(text: str) -> bool:
    """Emoji or punctuation alone is not a question the bot failed to answer."""
    return any(ch.isalnum() for ch in text)


def keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """Chinese keywords match anywhere; Latin ones only as whole words ("agent" but not "agentic")."""
    parts = []
    for keyword in sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True):
        escaped = re.escape(keyword)
        parts.append(escaped if not keyword.isascii() else rf"\b{escaped}\b")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _grievance(given: TriggerInput, cues: dict[str, str], settings: TriggerSettings) -> bool:
    """A complaint against the business, not only a problem: grievance words ("离谱", "terrible"), a demand made
    with a negative emotion, or strong anger."""
    negative = given.emotion in NEGATIVE_LABELS and given.intensity >= settings.negative_min_intensity
    return (
        "dissatisfaction" in cues
        or ("demand" in cues and negative)
        or (given.emotion == "anger" and given.intensity >= settings.anger_over_answer)
    )


def _corroborated(
    given: TriggerInput, cues: dict[str, str], confident: bool = False, asks: Callable[[str], bool] = lambda _: False
) -> bool:
    """The classifier reads a problem report as a complaint; a problem the bot has a confident answer for,
    told calmly and without grievance words ("the colour is wrong, can I exchange it?"), is answered instead.
    Corroboration: a negative emotion, a grievance cue word, the classifier itself past its high-precision point
    (`ComplaintModel.confident`, chosen by CV on the training examples), or a bot without a confident answer,
    unless the message is a calm question ("can those one-ring calls be blocked?"): that gets the answer or an
    honest "I don't know" with a person offered, not a handoff that skips the answer."""
    negative = given.emotion in NEGATIVE_LABELS
    if negative or cues or confident:
        return True
    return given.decision != "answer" and not asks(given.text)
