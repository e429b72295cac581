"""Emotion history of a customer (or of everyone) from tagged messages: pure functions, no storage.

Input: `EmotionRecord`s (one tagged customer message each). Output: counts, dominant emotions, trends,
topics that came with negative emotion, a sparkline, and the rules the lead wires to alerts:
- a conversation is *at risk* after `at_risk_streak` consecutive negative messages (default 3);
- a customer gets an *alert* with ≥ `alert_negative_conversations` negative conversations within
  `alert_window_days` days (default 2 in 30);
- *conversion rate* = negative conversations whose last message is positive / negative conversations;
- *recovery time* = seconds from the first negative message to the first positive message after it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from bot.emotion.base import NEGATIVE_LABELS
from bot.emotion.context import valence

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
POSITIVE_LABELS = frozenset({"joy"})
_EN_WORD = re.compile(r"[a-z][a-z']{3,}")
_EN_STOPWORDS = frozenset(
    [
        "this",
        "that",
        "with",
        "have",
        "from",
        "your",
        "what",
        "when",
        "where",
        "which",
        "there",
        "their",
        "they",
        "them",
        "been",
        "were",
        "will",
        "would",
        "could",
        "should",
        "about",
        "just",
        "still",
        "again",
        "please",
        "thanks",
        "thank",
        "very",
        "really",
        "into",
        "than",
        "then",
        "does",
        "doesn't",
        "didn't",
        "can't",
        "don't",
        "it's",
        "i'm",
        "you're",
        "order",
        "help",
    ]
)
_ZH_STOPWORDS = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "什么",
        "怎么",
        "为什么",
        "没有",
        "一个",
        "这个",
        "那个",
        "已经",
        "还是",
        "就是",
        "可以",
        "不是",
        "现在",
        "还有",
        "到底",
    ]
)


@dataclass(frozen=True, slots=True)
class EmotionRecord:
    """One tagged customer message; `timestamp` is a datetime or epoch seconds."""

    timestamp: datetime | float
    conversation_id: str
    label: str
    intensity: float
    faq_id: str | None = None
    text: str = ""
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileRules:
    at_risk_streak: int = 3
    alert_negative_conversations: int = 2
    alert_window_days: float = 30.0
    trend_messages: int = 10
    trend_conversations: int = 5
    sparkline_messages: int = 20
    top_topics: int = 5
    trend_threshold: float = 0.15


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    conversation_id: str
    started: float
    ended: float
    messages: int
    negative: bool
    ends_positive: bool
    at_risk: bool
    mean_valence: float
    recovery_seconds: float | None


@dataclass(frozen=True, slots=True)
class EmotionProfile:
    messages: int
    counts: dict[str, int]
    dominant: tuple[str, ...]
    message_trend: str  # "improving" | "worsening" | "steady"
    conversation_trend: str
    negative_faq_ids: tuple[tuple[str, int], ...]
    negative_keywords: tuple[tuple[str, int], ...]
    sparkline: str
    conversations: tuple[ConversationSummary, ...]
    at_risk_conversations: tuple[str, ...]
    negative_conversations: int
    alert: bool
    alert_reason: str | None
    conversion_rate: float | None
    recovery_seconds_median: float | None


def _seconds(timestamp: datetime | float) -> float:
    return timestamp.timestamp() if isinstance(timestamp, datetime) else float(timestamp)


def _record_valence(record: EmotionRecord) -> float:
    return valence(record.label, max(0.0, min(1.0, record.intensity)))


def sparkline(values: Sequence[float]) -> str:
    """One block per value in [-1, 1]: ▁ is most negative, █ most positive, ▄/▅ around neutral."""
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((max(-1.0, min(1.0, v)) + 1) / 2 * top)] for v in values)


def trend(values: Sequence[float], threshold: float = 0.15) -> str:
    """Compare the mean of the later half of `values` with the earlier half."""
    if len(values) < 2:
        return "steady"
    half = len(values) // 2
    change = sum(values[-half:]) / half - sum(values[:half]) / half
    if change >= threshold:
        return "improving"
    if change <= -threshold:
        return "worsening"
    return "steady"


def longest_negative_streak(labels: Iterable[str]) -> int:
    longest = current = 0
    for label in labels:
        current = current + 1 if label in NEGATIVE_LABELS else 0
        longest = max(longest, current)
    return longest


def recovery_seconds(records: Sequence[EmotionRecord]) -> float | None:
    """Time from the first negative message to the first positive one after it (records in time order)."""
    first_negative: float | None = None
    for record in records:
        if first_negative is None and record.label in NEGATIVE_LABELS:
            first_negative = _seconds(record.timestamp)
        elif first_negative is not None and record.label in POSITIVE_LABELS:
            return _seconds(record.timestamp) - first_negative
    return None


def summarise_conversation(
    records: Sequence[EmotionRecord], rules: ProfileRules = ProfileRules()
) -> ConversationSummary:
    ordered = sorted(records, key=lambda r: _seconds(r.timestamp))
    negative = any(r.label in NEGATIVE_LABELS for r in ordered)
    return ConversationSummary(
        conversation_id=ordered[0].conversation_id,
        started=_seconds(ordered[0].timestamp),
        ended=_seconds(ordered[-1].timestamp),
        messages=len(ordered),
        negative=negative,
        ends_positive=ordered[-1].label in POSITIVE_LABELS,
        at_risk=longest_negative_streak(r.label for r in ordered) >= rules.at_risk_streak,
        mean_valence=round(sum(_record_valence(r) for r in ordered) / len(ordered), 3),
        recovery_seconds=recovery_seconds(ordered) if negative else None,
    )


def negative_conversation_alert(
    conversations: Sequence[ConversationSummary], rules: ProfileRules = ProfileRules()
) -> str | None:
    """A reason string when ≥ N negative conversations started within any `alert_window_days` window."""
    starts = sorted(c.started for c in conversations if c.negative)
    window = rules.alert_window_days * 86400
    needed = rules.alert_negative_conversations
    for i in range(len(starts) - needed + 1):
        if starts[i + needed - 1] - starts[i] <= window:
            return f"{needed} negative conversations within {rules.alert_window_days:g} days"
    return None


_ALERT_REASON = re.compile(r"(\d+) negative conversations within (\d+(?:\.\d+)?) days")


def alert_reason_parts(reason: str) -> tuple[int, str] | None:
    """(count, days) of a reason `negative_conversation_alert` wrote, so staff pages can say it in their language."""
    match = _ALERT_REASON.fullmatch(reason.strip())
    return (int(match[1]), match[2]) if match else None


def keywords(text: str) -> list[str]:
    """Rough topic words: English words of 4+ letters and Chinese words (jieba) of 2+ characters."""
    lowered = text.lower()
    words = [w for w in _EN_WORD.findall(lowered) if w not in _EN_STOPWORDS]
    if re.search(r"[\u4e00-\u9fff]", text):
        import jieba

        words += [
            w
            for w in jieba.lcut(text)
            if len(w) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w) and w not in _ZH_STOPWORDS
        ]
    return words


def build_profile(records: Iterable[EmotionRecord], rules: ProfileRules = ProfileRules()) -> EmotionProfile:
    """Everything the CRM shows about the emotion history in `records` (one customer or everyone)."""
    ordered = sorted(records, key=lambda r: _seconds(r.timestamp))
    counts = Counter(r.label for r in ordered)
    emotional = [label for label, _ in counts.most_common() if label != "neutral"]
    dominant = tuple(emotional[:2]) if emotional else (("neutral",) if ordered else ())

    by_conversation: dict[str, list[EmotionRecord]] = defaultdict(list)
    for record in ordered:
        by_conversation[record.conversation_id].append(record)
    conversations = tuple(
        sorted((summarise_conversation(rs, rules) for rs in by_conversation.values()), key=lambda c: c.started)
    )
    negative = [c for c in conversations if c.negative]
    converted = [c for c in negative if c.ends_positive]
    recoveries = [c.recovery_seconds for c in negative if c.recovery_seconds is not None]

    negative_records = [r for r in ordered if r.label in NEGATIVE_LABELS]
    faq_counts = Counter(r.faq_id for r in negative_records if r.faq_id)
    keyword_counts = Counter(w for r in negative_records for w in set(keywords(r.text)))
    valences = [_record_valence(r) for r in ordered]
    alert_reason = negative_conversation_alert(conversations, rules)

    return EmotionProfile(
        messages=len(ordered),
        counts=dict(counts),
        dominant=dominant,
        message_trend=trend(valences[-rules.trend_messages :], rules.trend_threshold),
        conversation_trend=trend(
            [c.mean_valence for c in conversations[-rules.trend_conversations :]], rules.trend_threshold
        ),
        negative_faq_ids=tuple(faq_counts.most_common(rules.top_topics)),
        negative_keywords=tuple(keyword_counts.most_common(rules.top_topics)),
        sparkline=sparkline(valences[-rules.sparkline_messages :]),
        conversations=conversations,
        at_risk_conversations=tuple(c.conversation_id for c in conversations if c.at_risk),
        negative_conversations=len(negative),
        alert=alert_reason is not None,
        alert_reason=alert_reason,
        conversion_rate=round(len(converted) / len(negative), 3) if negative else None,
        recovery_seconds_median=float(median(recoveries)) if recoveries else None,
    )


def profiles_by_customer(
    records: Iterable[EmotionRecord], rules: ProfileRules = ProfileRules()
) -> dict[str | None, EmotionProfile]:
    """One profile per `customer_id` (records without one are grouped under None)."""
    grouped: dict[str | None, list[EmotionRecord]] = defaultdict(list)
    for record in records:
        grouped[record.customer_id].append(record)
    return {customer: build_profile(rs, rules) for customer, rs in grouped.items()}
