"""Emotion conversion rate and recovery time over many conversations, with and without a handoff, computed with
the same rules as one customer's profile (`bot/emotion/profile.py`).

Three groups of conversations in the range:
- *bot only*: conversations without a handoff; conversion = negative conversations whose last customer message
  is positive / negative conversations; recovery = first negative → first positive message after it;
- *before handoff*: in conversations with a handoff, the customer's messages before it, by the same rules;
- *after handoff*: conversations whose customer was negative before the handoff; converted when their last
  message after it is positive; recovery = from the handoff request to the first positive message after it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from statistics import median

from bot.emotion.base import NEGATIVE_LABELS
from bot.emotion.profile import POSITIVE_LABELS, EmotionRecord, summarise_conversation
from storage.reports import LANGUAGES, Figure, language_keys, rate
from storage.reports_journeys import TaggedRow

GROUPS = ("bot_only", "before_handoff", "after_handoff")


def _records(rows: Sequence[TaggedRow]) -> list[EmotionRecord]:
    return [EmotionRecord(r.at, str(r.conversation_id), r.label, r.intensity, r.faq_id) for r in rows]


def _after_handoff(rows: Sequence[TaggedRow], handoff_at: float) -> tuple[bool, bool, float | None]:
    """(counts, converted, recovery seconds) for one conversation that was handed off."""
    before = [r for r in rows if r.at <= handoff_at]
    after = [r for r in rows if r.at > handoff_at]
    if not any(r.label in NEGATIVE_LABELS for r in before):
        return False, False, None
    converted = bool(after) and after[-1].label in POSITIVE_LABELS
    first_positive = next((r for r in after if r.label in POSITIVE_LABELS), None)
    recovery = first_positive.at - handoff_at if first_positive else None
    return True, converted, recovery


Outcome = tuple[str, bool, float | None]  # (group, converted, recovery seconds)


def conversation_outcomes(messages: Sequence[TaggedRow], handoff_at: float | None) -> list[Outcome]:
    """What one conversation adds to the figure: its tagged customer messages (oldest first) and its first
    handoff request. The same for the raw figure and for the `insight_conversation` rollup."""
    outcomes: list[Outcome] = []
    if handoff_at is None:
        summary = summarise_conversation(_records(messages))
        if summary.negative:
            outcomes.append(("bot_only", summary.ends_positive, summary.recovery_seconds))
        return outcomes
    before = [m for m in messages if m.at <= handoff_at]
    if before and (summary := summarise_conversation(_records(before))).negative:
        outcomes.append(("before_handoff", summary.ends_positive, summary.recovery_seconds))
    counts, converted, recovery = _after_handoff(messages, handoff_at)
    if counts:
        outcomes.append(("after_handoff", converted, recovery))
    return outcomes


def emotion_recovery(
    rows: Sequence[TaggedRow],
    handoffs: dict[int, float],
    rolled: Iterable[tuple[str | None, Sequence[Sequence]]] = (),
) -> Figure:
    """The figure from raw rows, plus `rolled`: (customer language, outcomes) of conversations the rollup
    already summed up."""
    by_conversation: dict[int, list[TaggedRow]] = defaultdict(list)
    for row in rows:
        by_conversation[row.conversation_id].append(row)
    stats = {
        key: {group: {"negative": 0, "converted": 0, "recoveries": []} for group in GROUPS}
        for key in ("all", *LANGUAGES)
    }
    every = [
        (messages[0].language, conversation_outcomes(messages, handoffs.get(conversation)))
        for conversation, messages in by_conversation.items()
    ]
    for language, outcomes in [*every, *rolled]:
        for group, converted, recovery in outcomes:
            for key in language_keys(language):
                cell = stats[key][group]
                cell["negative"] += 1
                cell["converted"] += converted
                if recovery is not None:
                    cell["recoveries"].append(recovery)

    summary_out = {
        key: {
            group: {
                "negative_conversations": cell["negative"],
                "converted": cell["converted"],
                "conversion_rate": rate(cell["converted"], cell["negative"]),
                "recovered": len(cell["recoveries"]),
                "recovery_median_seconds": float(median(cell["recoveries"])) if cell["recoveries"] else None,
            }
            for group, cell in groups.items()
        }
        for key, groups in stats.items()
    }
    table = [
        {"group": group, "language": key, **values}
        for key, groups in summary_out.items()
        for group, values in groups.items()
    ]
    columns = (
        "group",
        "language",
        "negative_conversations",
        "converted",
        "conversion_rate",
        "recovered",
        "recovery_median_seconds",
    )
    return Figure("emotion_recovery", columns, table, summary_out)
