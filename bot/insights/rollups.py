"""Keeping the insights rollups (`storage/reports_rollups.py`) up to date, and the figures that read them.

`refresh_rollups` moves the watermark to 24 h before now (on the hour): it stores the outcome of every
question asked since the last watermark, and recomputes the emotion outcomes of every conversation with a
tagged customer message or a handoff request since then. Run it from cron or a scheduler (`run.py insights
rollup`; hourly is plenty); figures stay correct without it (the part after the watermark is computed from raw
rows), only slower.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from bot.insights.recovery import conversation_outcomes, emotion_recovery
from storage.db import Database
from storage.models import Handoff
from storage.reports import Figure, ReportFilter, ReportRange, epoch_seconds, read
from storage.reports_journeys import FOLLOW_UP, tagged_conversations
from storage.reports_rollups import (
    clear,
    conversation_facts,
    first_event,
    replace_conversation_facts,
    set_watermark,
    store_questions,
    touched_conversations,
    watermark,
)

CHUNK = timedelta(days=14)
CONVERSATION_BATCH = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RollupRun:
    since: datetime | None
    until: datetime | None
    questions: int = 0
    conversations: int = 0


def refresh_rollups(db: Database, now: datetime, rebuild: bool = False) -> RollupRun:
    until = (now - FOLLOW_UP).replace(minute=0, second=0, microsecond=0)
    with db.session() as session:
        if rebuild:
            clear(session)
        since = watermark(session) or first_event(session)
    if since is None or until <= since:
        return RollupRun(since, None)
    questions = conversations = 0
    start = since
    while start < until:
        end = min(start + CHUNK, until)
        with db.session() as session:
            questions += store_questions(session, ReportRange(start, end))
        start = end
    with db.session() as session:
        touched = sorted(touched_conversations(session, ReportRange(since, until)))
    for index in range(0, len(touched), CONVERSATION_BATCH):
        batch = set(touched[index : index + CONVERSATION_BATCH])
        with db.session() as session:
            rows = _conversation_rows(session, batch, until)
            replace_conversation_facts(session, batch, rows)
        conversations += len(rows)
    with db.session() as session:
        set_watermark(session, until, now)
    return RollupRun(since, until, questions, conversations)


def _conversation_rows(session: Session, ids: set[int], until: datetime) -> list[dict]:
    everything = ReportRange(EPOCH, until)
    rows, _ = tagged_conversations(session, everything, ReportFilter(), only=ids)
    handoffs: dict[int, list[float]] = defaultdict(list)
    query = select(Handoff.conversation_id, epoch_seconds(session, Handoff.requested_at)).where(
        Handoff.conversation_id.in_(sorted(ids)), Handoff.requested_at < until
    )
    for conversation, requested in read(session, query):
        handoffs[conversation].append(round(float(requested), 3))
    platforms = _platforms(session, ids)
    by_conversation = defaultdict(list)
    for row in rows:
        by_conversation[row.conversation_id].append(row)
    facts = []
    for conversation, messages in by_conversation.items():
        times = [m.at for m in messages] + handoffs.get(conversation, [])
        first_handoff = min(handoffs[conversation]) if handoffs.get(conversation) else None
        facts.append(
            {
                "conversation_id": conversation,
                "customer_id": messages[0].customer_id,
                "platform": platforms.get(conversation, ""),
                "first_at": _naive(min(times)),
                "last_at": _naive(max(times)),
                "outcomes": [list(o) for o in conversation_outcomes(messages, first_handoff)],
            }
        )
    return facts


def _platforms(session: Session, ids: set[int]) -> dict[int, str]:
    from storage.models import Message

    query = (
        select(Message.conversation_id, func.min(Message.platform))
        .where(Message.conversation_id.in_(sorted(ids)), Message.direction == "in")
        .group_by(Message.conversation_id)
    )
    return {c: p for c, p in read(session, query)}


def _naive(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def rolled_emotion_recovery(session: Session, period: ReportRange, filters: ReportFilter) -> Figure:
    facts = conversation_facts(session, period, filters)
    if facts is None:
        return emotion_recovery(*tagged_conversations(session, period, filters))
    rolled, raw_ids = facts
    rows, handoffs = tagged_conversations(session, period, filters, only=raw_ids)
    return emotion_recovery(rows, handoffs, rolled)
