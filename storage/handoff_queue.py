"""The agent console's queue: handoffs with the facts an agent picks by (who, where, which language, the last
thing said), read in one go instead of one query per row; and the briefing a live summary is rebuilt from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import select

from storage.db import Database
from storage.handoffs import OPEN_STATUSES, Briefing, HandoffStatus, _customer_row, _transcript
from storage.models import Conversation, Customer, Handoff, Message

OPEN, RESOLVED = "open", "resolved"
TABS = (OPEN, RESOLVED)
RECENTLY_CLOSED = 20  # what the queue shows after the open ones when no tab is asked for
MAX_RESOLVED = 100


@dataclass(frozen=True, slots=True)
class LastMessage:
    direction: str
    decision: str | None
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class QueueRow:
    handoff: Handoff
    customer_name: str | None
    channel: str | None
    language: str | None
    last_message: LastMessage | None


def handoff_queue(db: Database, tab: str | None = None) -> list[QueueRow]:
    """`open`: open handoffs oldest first; `resolved`: closed ones newest first; None: both (open first)."""
    with db.session() as session:
        handoffs: list[Handoff] = []
        if tab in (None, OPEN):
            handoffs += session.exec(
                select(Handoff).where(Handoff.status.in_(OPEN_STATUSES)).order_by(Handoff.id)
            ).all()
        if tab in (None, RESOLVED):
            handoffs += session.exec(
                select(Handoff)
                .where(Handoff.status == HandoffStatus.RESOLVED)
                .order_by(Handoff.id.desc())
                .limit(RECENTLY_CLOSED if tab is None else MAX_RESOLVED)
            ).all()
        if not handoffs:
            return []
        customers = {
            c.id: c
            for c in session.exec(select(Customer).where(Customer.id.in_({h.customer_id for h in handoffs}))).all()
        }
        conversation_ids = {h.conversation_id for h in handoffs}
        channels = dict(
            session.exec(
                select(Conversation.id, Conversation.platform).where(Conversation.id.in_(conversation_ids))
            ).all()
        )
        newest = (
            select(func.max(Message.id))
            .where(Message.conversation_id.in_(conversation_ids))
            # what a person said last (the customer, or an agent), not the bot's automatic acknowledgements
            .where(or_(Message.direction == "in", Message.decision == "agent"))
            .group_by(Message.conversation_id)
        )
        last = {
            m.conversation_id: LastMessage(m.direction, m.decision, m.shown_text, m.created_at)
            for m in session.exec(select(Message).where(Message.id.in_(newest))).all()
        }
        rows = []
        for handoff in handoffs:
            customer = customers.get(handoff.customer_id)
            rows.append(
                QueueRow(
                    handoff,
                    customer.display_name if customer else None,
                    channels.get(handoff.conversation_id),
                    customer.language if customer else None,
                    last.get(handoff.conversation_id),
                )
            )
        return rows


def briefing(db: Database, handoff_id: int) -> Briefing | None:
    """What the handoff's summary is written from, as the conversation stands now (not when it opened)."""
    with db.session() as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            return None
        row = _customer_row(session, handoff.customer_id, handoff.conversation_id)
        if row is None:
            return None
        return Briefing(handoff, row, _transcript(session, handoff.conversation_id))
