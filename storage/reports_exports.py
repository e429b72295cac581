"""The insights' raw exports: one row per conversation and one per message in a range, streamed (a year of
messages does not fit in memory). Forgotten customers are deleted rows, so they are in no export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, func
from sqlmodel import select

from storage.db import Database
from storage.models import Conversation, Customer, Handoff, Message
from storage.reports import ReportFilter, ReportRange, customer_filters, message_filters, topic_of, topics

CONVERSATION_COLUMNS = (
    "conversation_id",
    "customer_id",
    "channel",
    "language",
    "tier",
    "state",
    "started_at",
    "last_message_at",
    "messages",
    "customer_messages",
    "handoffs",
    "rating",
    "at_risk",
)
MESSAGE_COLUMNS = (
    "message_id",
    "conversation_id",
    "customer_id",
    "direction",
    "channel",
    "language",
    "created_at",
    "decision",
    "faq_id",
    "topic",
    "emotion",
    "emotion_intensity",
    "text",
)
STREAM_ROWS = 2000


def conversation_rows(db: Database, period: ReportRange, filters: ReportFilter) -> Iterator[dict[str, Any]]:
    counts = (
        select(
            Message.conversation_id.label("cid"),
            func.count().label("messages"),
            func.sum(case((Message.direction == "in", 1), else_=0)).label("inbound"),
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    handoffs = (
        select(
            Handoff.conversation_id.label("cid"),
            func.count().label("handoffs"),
            func.max(Handoff.rating).label("rating"),
        )
        .group_by(Handoff.conversation_id)
        .subquery()
    )
    query = customer_filters(
        select(
            Conversation,
            Customer.language,
            Customer.tier,
            counts.c.messages,
            counts.c.inbound,
            handoffs.c.handoffs,
            handoffs.c.rating,
        )
        .join(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(counts, counts.c.cid == Conversation.id)
        .outerjoin(handoffs, handoffs.c.cid == Conversation.id)
        .where(Conversation.started_at >= period.start, Conversation.started_at < period.end),
        filters,
        Conversation.platform,
    ).order_by(Conversation.id)
    with db.session() as session:
        for c, language, tier, messages, inbound, handoff_count, rating in session.execute(
            query.execution_options(yield_per=STREAM_ROWS)
        ):
            yield {
                "conversation_id": c.id,
                "customer_id": c.customer_id,
                "channel": c.platform,
                "language": language,
                "tier": tier,
                "state": c.state,
                "started_at": c.started_at.isoformat(),
                "last_message_at": c.last_message_at.isoformat(),
                "messages": messages or 0,
                "customer_messages": int(inbound or 0),
                "handoffs": handoff_count or 0,
                "rating": rating,
                "at_risk": c.at_risk,
            }


def message_rows(db: Database, period: ReportRange, filters: ReportFilter) -> Iterator[dict[str, Any]]:
    query = message_filters(select(Message), filters, period, inbound=False).order_by(Message.id)
    with db.session() as session:
        known = topics(session)
        for (m,) in session.execute(query.execution_options(yield_per=STREAM_ROWS)):
            yield {
                "message_id": m.id,
                "conversation_id": m.conversation_id,
                "customer_id": m.customer_id,
                "direction": m.direction,
                "channel": m.platform,
                "language": m.language,
                "created_at": m.created_at.isoformat(),
                "decision": m.decision,
                "faq_id": m.faq_id,
                "topic": topic_of(m.faq_id, known) if m.direction == "in" else None,
                "emotion": m.emotion_label,
                "emotion_intensity": m.emotion_intensity,
                "text": m.shown_text,
            }
