"""Manager insights, part 3: what happened to a customer after a message — bot resolution and effort — and the
rows the emotion recovery figure is computed from (`bot/insights/recovery.py`). Conventions: `storage/reports.py`.

- *bot resolution*: a question counts as resolved by the bot when the bot answered it (decision "answer"), the
  customer was not handed to a person within the next 24 h, and they did not ask about the same topic again
  within those 24 h (on any channel). Rate = resolved questions / questions;
- *repeated question*: a question on a topic the same customer already asked about in the previous 24 h
  (questions without a topic never repeat);
- *channels used*: distinct channels a customer wrote on in the range;
- *handoffs per issue*: handoffs requested in the range / conversations they were requested in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from storage.models import Customer, Handoff, Message
from storage.reports import (
    LANGUAGES,
    QUESTION_DECISIONS,
    UNMATCHED,
    Figure,
    ReportFilter,
    ReportRange,
    counters,
    customer_filters,
    customer_traits,
    daily_rows,
    epoch_seconds,
    keeps,
    language_keys,
    rate,
    read,
    topics,
)
from storage.reports_handoffs import handoffs_in

FOLLOW_UP = timedelta(hours=24)
FOLLOW_UP_SECONDS = FOLLOW_UP.total_seconds()


class Question(NamedTuple):
    at: float  # epoch seconds: tens of thousands of these are compared
    id: int
    decision: str
    topic: str
    language: str | None
    platform: str


def _questions(session: Session, period: ReportRange, tier: str | None) -> dict[int, list[Question]]:
    """Every question from 24 h before the range to 24 h after it, per customer, oldest first: the follow-ups
    count on every channel and in every language, so only the tier (a customer's) narrows them."""
    query = select(
        Message.id,
        Message.customer_id,
        epoch_seconds(session, Message.created_at),
        Message.decision,
        Message.faq_id,
        Message.language,
        Message.platform,
    ).where(
        Message.direction == "in",
        Message.decision.in_(QUESTION_DECISIONS),
        Message.created_at >= period.start - FOLLOW_UP,
        Message.created_at < period.end + FOLLOW_UP,
    )
    if tier:
        query = query.join(Customer, Customer.id == Message.customer_id).where(Customer.tier == tier)
    known = topics(session)
    by_customer: dict[int, list[Question]] = defaultdict(list)
    for id_, customer, created, decision, faq_id, language, platform in read(session, query):
        topic = known.get(faq_id, faq_id) if faq_id is not None else UNMATCHED
        by_customer[customer].append(Question(round(float(created), 3), id_, decision, topic, language, platform))
    for questions in by_customer.values():
        questions.sort()
    return by_customer


def _handoff_times(session: Session, period: ReportRange) -> dict[int, list[float]]:
    query = select(Handoff.customer_id, epoch_seconds(session, Handoff.requested_at)).where(
        Handoff.requested_at >= period.start, Handoff.requested_at < period.end + FOLLOW_UP
    )
    times: dict[int, list[float]] = defaultdict(list)
    for customer, requested in read(session, query):
        times[customer].append(round(float(requested), 3))
    return times


def _counter(period: ReportRange, filters: ReportFilter):
    start, end = period.start.timestamp(), period.end.timestamp()

    def counted(question: Question) -> bool:
        return (
            start <= question.at < end
            and (not filters.channel or question.platform == filters.channel)
            and (not filters.language or question.language == filters.language)
        )

    return counted


def _resolved(question: Question, later: Sequence[Question], handed_off: Sequence[float]) -> bool:
    if question.decision != "answer":
        return False
    deadline = question.at + FOLLOW_UP_SECONDS
    if any(question.at < moment <= deadline for moment in handed_off):
        return False
    for q in later:
        if q.at > deadline:
            return True
        if q.topic == question.topic and q.topic != UNMATCHED:
            return False
    return True


def _repeated(question: Question, earlier: Sequence[Question]) -> bool:
    if question.topic == UNMATCHED:
        return False
    since = question.at - FOLLOW_UP_SECONDS
    return any(q.topic == question.topic and q.at >= since for q in earlier)


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def resolution(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    by_customer = _questions(session, period, filters.tier)
    handed_off = _handoff_times(session, period)
    counted = _counter(period, filters)
    per_day: dict[tuple[float, str | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    for customer, questions in by_customer.items():
        for index, question in enumerate(questions):
            if counted(question):
                cell = per_day[(question.at // 86400, question.language)]
                cell[0] += 1
                if question.decision == "answer":
                    cell[1] += 1
                    cell[2] += _resolved(question, questions[index + 1 :], handed_off.get(customer, ()))
    table: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals = counters()
    for (day, language), (asked, answered, resolved) in per_day.items():
        for counts in (table[(_day(day * 86400), language)], *(totals[k] for k in language_keys(language))):
            counts["questions"] += asked
            counts["answered"] += answered
            counts["resolved"] += resolved
    columns = ("day", "language", "questions", "answered", "resolved")
    rows = daily_rows(table, columns)
    summary = {
        key: {
            "questions": v.get("questions", 0),
            "answered": v.get("answered", 0),
            "resolved": v.get("resolved", 0),
            "resolution_rate": rate(v.get("resolved", 0), v.get("questions", 0)),
        }
        for key, v in totals.items()
    }
    return Figure("resolution", columns, rows, summary)


RepeatCounts = Callable[[Session, ReportRange, ReportFilter], dict[str, list[int]]]


def repeat_counts(session: Session, period: ReportRange, filters: ReportFilter) -> dict[str, list[int]]:
    """Per language key: [questions, repeated questions] in the range."""
    totals = {key: [0, 0] for key in ("all", *LANGUAGES)}
    counted = _counter(period, filters)
    for questions in _questions(session, period, filters.tier).values():
        for index, question in enumerate(questions):
            if counted(question):
                repeated = _repeated(question, questions[:index])
                for key in language_keys(question.language):
                    totals[key][0] += 1
                    totals[key][1] += repeated
    return totals


def question_outcomes(session: Session, period: ReportRange) -> list[dict]:
    """Every question asked in the range with its final outcome (the range must end 24 h ago or earlier):
    the rows of the `insight_question` rollup."""
    by_customer = _questions(session, period, None)
    handed_off = _handoff_times(session, period)
    counted = _counter(period, ReportFilter())
    rows = []
    for customer, questions in by_customer.items():
        for index, q in enumerate(questions):
            if counted(q):
                rows.append(
                    {
                        "message_id": q.id,
                        "customer_id": customer,
                        "created_at": datetime.fromtimestamp(q.at, UTC),
                        "language": q.language,
                        "platform": q.platform,
                        "answered": q.decision == "answer",
                        "resolved": _resolved(q, questions[index + 1 :], handed_off.get(customer, ())),
                        "repeated": _repeated(q, questions[:index]),
                    }
                )
    return rows


def effort(session: Session, period: ReportRange, filters: ReportFilter, repeats: RepeatCounts | None = None) -> Figure:
    totals = counters()
    channels = select(Message.customer_id, func.count(distinct(Message.platform))).where(
        Message.direction == "in", Message.created_at >= period.start, Message.created_at < period.end
    )
    if filters.channel:
        channels = channels.where(Message.platform == filters.channel)
    used_by = dict(read(session, channels.group_by(Message.customer_id)))
    traits = customer_traits(session, used_by)
    histogram: dict[tuple[int, str | None], int] = defaultdict(int)
    for customer, used in used_by.items():
        if not keeps(traits.get(customer), filters):
            continue
        language = traits[customer][0]
        histogram[(used, language)] += 1
        for key in language_keys(language):
            totals[key]["customers"] += 1
            totals[key]["channels"] += used
            totals[key]["multi_channel"] += used > 1

    for key, (asked, repeated) in (repeats or repeat_counts)(session, period, filters).items():
        totals[key]["questions"] += asked
        totals[key]["repeated"] += repeated

    per_issue = handoffs_in(
        select(Customer.language, func.count(Handoff.id), func.count(distinct(Handoff.conversation_id))),
        period,
        filters,
    ).group_by(Customer.language)
    for language, count, conversations in session.execute(per_issue):
        for key in language_keys(language):
            totals[key]["handoffs"] += count
            totals[key]["handed_off_conversations"] += conversations

    summary = {}
    for key, v in totals.items():
        customers, handed_off = v.get("customers", 0), v.get("handed_off_conversations", 0)
        summary[key] = {
            "customers": customers,
            "channels_per_customer": round(v.get("channels", 0) / customers, 3) if customers else None,
            "multi_channel_share": rate(v.get("multi_channel", 0), customers),
            "questions": v.get("questions", 0),
            "repeated_questions": v.get("repeated", 0),
            "repeated_rate": rate(v.get("repeated", 0), v.get("questions", 0)),
            "handoffs": v.get("handoffs", 0),
            "handoffs_per_issue": round(v.get("handoffs", 0) / handed_off, 3) if handed_off else None,
        }
    rows = [
        {"channels": used, "language": language, "customers": n}
        for (used, language), n in sorted(histogram.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]
    return Figure("effort", ("channels", "language", "customers"), rows, summary)


@dataclass(frozen=True, slots=True)
class TaggedRow:
    conversation_id: int
    customer_id: int
    language: str | None  # the customer's
    at: float  # epoch seconds
    label: str
    intensity: float
    faq_id: str | None
    text: str


def tagged_conversations(
    session: Session,
    period: ReportRange,
    filters: ReportFilter,
    with_text: bool = False,
    only: set[int] | None = None,
) -> tuple[list[TaggedRow], dict[int, float]]:
    """Tagged customer messages in the range (oldest first) and each of their conversations' first handoff
    request in the range: what the emotion conversion and recovery figures are computed from (`only`: just
    these conversations)."""
    if only is not None and not only:
        return [], {}
    text = Message.text if with_text else Message.id
    query = (
        select(
            Message.conversation_id,
            Message.customer_id,
            Customer.language,
            epoch_seconds(session, Message.created_at),
            Message.emotion_label,
            Message.emotion_intensity,
            Message.faq_id,
            text,
            Message.platform,
            Customer.tier,
        )
        .join(Customer, Customer.id == Message.customer_id)
        .where(
            Message.direction == "in",
            Message.emotion_label.is_not(None),
            Message.created_at >= period.start,
            Message.created_at < period.end,
        )
        .order_by(Message.created_at)
    )
    if only is None:
        query, kept = customer_filters(query, filters, Message.platform), None
    else:
        # a few conversations: found by their index, filtered here (a filter in SQL can lead the planner to
        # scan every message of the customers it selects)
        query = query.where(Message.conversation_id.in_(sorted(only)))
        kept = filters
    rows = [
        TaggedRow(c, cu, lang, round(float(t), 3), label, i or 0.0, faq, tx if with_text else "")
        for c, cu, lang, t, label, i, faq, tx, platform, tier in read(session, query)
        if kept is None
        or (
            (not kept.channel or platform == kept.channel)
            and (not kept.language or lang == kept.language)
            and (not kept.tier or tier == kept.tier)
        )
    ]
    first_handoff = select(Handoff.conversation_id, func.min(epoch_seconds(session, Handoff.requested_at))).where(
        Handoff.requested_at >= period.start, Handoff.requested_at < period.end
    )
    if only is not None:
        first_handoff = first_handoff.where(Handoff.conversation_id.in_(sorted(only)))
    handoffs = {c: round(float(t), 3) for c, t in read(session, first_handoff.group_by(Handoff.conversation_id))}
    return rows, handoffs
