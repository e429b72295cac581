"""Manager insights, part 4: the rollups that keep the slow figures (bot resolution, repeated questions, emotion
recovery) fast on a large history, with figures identical to the raw queries of `reports_journeys.py`.

- `insight_question`: one row per question asked before the watermark, with its final outcome (resolved,
  repeated). A question's outcome needs the 24 h after it, so the watermark stays at least 24 h behind now;
- `insight_conversation`: one row per conversation with tagged customer messages, with its emotion outcomes
  over its events (tagged messages, handoffs) before the watermark, and the span of those events;
- `insight_rollup_state`: the watermark. A figure reads the rollup for the part of its range before the
  watermark and the raw rows for the rest; a conversation not wholly inside the range, or touched after the
  watermark, is computed from its raw rows.

The rollups are filled by a job (`run.py insights rollup`, or the scheduler), never by the message path. They
use the FAQ topics of the moment they were computed: after retagging entries, `insights rollup --rebuild`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, and_, case, delete, func, insert
from sqlmodel import Session, select

from storage.models import Customer, Handoff, InsightConversation, InsightQuestion, InsightRollupState, Message
from storage.reports import (
    LANGUAGES,
    Figure,
    ReportFilter,
    ReportRange,
    aware,
    counters,
    customer_traits,
    daily_rows,
    day_of,
    keeps,
    language_keys,
    rate,
    read,
)
from storage.reports_journeys import question_outcomes, repeat_counts, resolution

ROLLUP = "insights"
BATCH = 2000


def watermark(session: Session) -> datetime | None:
    state = session.get(InsightRollupState, ROLLUP)
    return aware(state.until) if state else None


def set_watermark(session: Session, until: datetime, now: datetime) -> None:
    state = session.get(InsightRollupState, ROLLUP) or InsightRollupState(name=ROLLUP, until=until)
    state.until, state.updated_at = until, now
    session.add(state)


def clear(session: Session) -> None:
    for table in (InsightQuestion, InsightConversation, InsightRollupState):
        session.exec(delete(table))


def first_event(session: Session) -> datetime | None:
    first = session.execute(select(func.min(Message.created_at))).scalar_one_or_none()
    return aware(first) if first else None


def store_questions(session: Session, period: ReportRange) -> int:
    rows = question_outcomes(session, period)
    session.exec(
        delete(InsightQuestion).where(
            InsightQuestion.created_at >= period.start, InsightQuestion.created_at < period.end
        )
    )
    for start in range(0, len(rows), BATCH):
        session.connection().execute(insert(InsightQuestion.__table__), rows[start : start + BATCH])
    return len(rows)


def touched_conversations(session: Session, period: ReportRange) -> set[int]:
    """Conversations with a tagged customer message or a handoff request in the range."""
    tagged = select(Message.conversation_id).where(
        Message.direction == "in",
        Message.emotion_label.is_not(None),
        Message.created_at >= period.start,
        Message.created_at < period.end,
    )
    handed = select(Handoff.conversation_id).where(
        Handoff.requested_at >= period.start, Handoff.requested_at < period.end
    )
    return {c for (c,) in read(session, tagged.distinct())} | {c for (c,) in read(session, handed.distinct())}


def replace_conversation_facts(session: Session, ids: Iterable[int], rows: list[dict]) -> None:
    session.exec(delete(InsightConversation).where(InsightConversation.conversation_id.in_(list(ids))))
    if rows:
        session.connection().execute(insert(InsightConversation.__table__), rows)


def _fact_filters(query, filters: ReportFilter, platform_column, customer_column):
    if filters.channel:
        query = query.where(platform_column == filters.channel)
    if filters.language or filters.tier:
        query = query.join(Customer, Customer.id == customer_column)
        if filters.language:
            query = query.where(Customer.language == filters.language)
        if filters.tier:
            query = query.where(Customer.tier == filters.tier)
    return query


# -- bot resolution and repeated questions --------------------------------------------------------------


def _split(session: Session, period: ReportRange) -> tuple[ReportRange | None, ReportRange | None]:
    """(the part of the range the rollup covers, the part computed from raw rows)."""
    until = watermark(session)
    if until is None or until <= period.start:
        return None, period
    if until >= period.end:
        return period, None
    return ReportRange(period.start, until), ReportRange(until, period.end)


def _question_counts(session: Session, period: ReportRange, filters: ReportFilter):
    query = select(
        func.date(InsightQuestion.created_at),
        InsightQuestion.language,
        func.count(),
        func.sum(InsightQuestion.answered.cast(Integer)),
        func.sum(InsightQuestion.resolved.cast(Integer)),
        func.sum(InsightQuestion.repeated.cast(Integer)),
    ).where(InsightQuestion.created_at >= period.start, InsightQuestion.created_at < period.end)
    if filters.language:
        query = query.where(InsightQuestion.language == filters.language)
    query = _fact_filters(
        query, ReportFilter(filters.channel, None, filters.tier), InsightQuestion.platform, InsightQuestion.customer_id
    )
    return session.execute(query.group_by(func.date(InsightQuestion.created_at), InsightQuestion.language)).all()


def rolled_resolution(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    rolled, raw = _split(session, period)
    table: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals = counters()
    if rolled is not None:
        for day, language, asked, answered, resolved, _ in _question_counts(session, rolled, filters):
            for cell in (table[(day_of(day), language)], *(totals[k] for k in language_keys(language))):
                cell["questions"] += asked
                cell["answered"] += int(answered or 0)
                cell["resolved"] += int(resolved or 0)
    if raw is not None:
        for row in resolution(session, raw, filters).rows:
            for cell in (table[(row["day"], row["language"])], *(totals[k] for k in language_keys(row["language"]))):
                for column in ("questions", "answered", "resolved"):
                    cell[column] += row[column]
    columns = ("day", "language", "questions", "answered", "resolved")
    summary = {
        key: {
            "questions": v.get("questions", 0),
            "answered": v.get("answered", 0),
            "resolved": v.get("resolved", 0),
            "resolution_rate": rate(v.get("resolved", 0), v.get("questions", 0)),
        }
        for key, v in totals.items()
    }
    return Figure("resolution", columns, daily_rows(table, columns), summary)


def rolled_repeats(session: Session, period: ReportRange, filters: ReportFilter) -> dict[str, list[int]]:
    rolled, raw = _split(session, period)
    totals = {key: [0, 0] for key in ("all", *LANGUAGES)}
    if rolled is not None:
        for _day, language, asked, _answered, _resolved, repeated in _question_counts(session, rolled, filters):
            for key in language_keys(language):
                totals[key][0] += asked
                totals[key][1] += int(repeated or 0)
    if raw is not None:
        for key, (asked, repeated) in repeat_counts(session, raw, filters).items():
            totals[key][0] += asked
            totals[key][1] += repeated
    return totals


# -- emotion recovery ------------------------------------------------------------------------------------


def conversation_facts(
    session: Session, period: ReportRange, filters: ReportFilter
) -> tuple[list[tuple[str | None, list]], set[int]] | None:
    """(customer language, outcomes) of the conversations the rollup answers for this range, and the ids of
    the conversations in the range it cannot answer for (to be computed from raw rows); None without a rollup."""
    until = watermark(session)
    if until is None or until <= period.start:
        return None
    inside = and_(InsightConversation.first_at >= period.start, InsightConversation.last_at < period.end)
    query = select(
        InsightConversation.conversation_id,
        InsightConversation.customer_id,
        case((inside, 1), else_=0),
        InsightConversation.outcomes,
    ).where(InsightConversation.last_at >= period.start, InsightConversation.first_at < period.end)
    if filters.channel:
        query = query.where(InsightConversation.platform == filters.channel)
    found = read(session, query)
    traits = customer_traits(session, (row[1] for row in found))
    recent = touched_conversations(session, ReportRange(until, period.end)) if until < period.end else set()
    answered, raw = [], set(recent)
    for conversation, customer, wholly_inside, outcomes in found:
        if conversation in recent or not keeps(traits.get(customer), filters):
            continue
        if wholly_inside:
            answered.append((traits[customer][0], outcomes))
        else:
            raw.add(conversation)
    return answered, raw
