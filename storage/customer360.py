"""Customer 360: the searchable customer list and everything one customer's page shows, each in one call.

A forgotten customer is deleted rows, so they are neither found nor shown. Callers audit the view
(`CustomerRepository.audit`): these functions only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, or_
from sqlmodel import Session, select

from storage.db import Database, row_id
from storage.models import (
    CareNote,
    Conversation,
    Customer,
    EmotionAlert,
    Handoff,
    Identity,
    Message,
    Note,
    OutboxMessage,
    OutboxStatus,
)

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class CustomerSearch:
    query: str | None = None  # part of the name, an identity's user id, the phone or email, or an id (#12)
    channel: str | None = None  # has an identity on this platform
    tier: str | None = None
    at_risk: bool | None = None  # has an at-risk conversation or an unacknowledged alert
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    name: str | None
    tier: str
    language: str | None
    email: str | None
    phone: str | None
    channels: tuple[str, ...]
    at_risk: bool
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerPage:
    rows: list[CustomerRow]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True, slots=True)
class EmotionPoint:
    message_id: int
    conversation_id: int
    created_at: datetime
    label: str
    intensity: float


@dataclass(frozen=True, slots=True)
class ConversationTranscript:
    conversation: Conversation
    messages: list[Message]


@dataclass(frozen=True, slots=True)
class Customer360:
    customer: Customer
    identities: list[Identity]
    emotion_timeline: list[EmotionPoint]
    conversations: list[ConversationTranscript]  # newest first
    handoffs: list[Handoff]  # newest first, with summaries and ratings
    notes: list[Note]  # the viewer's own notes first, then everyone's, newest first
    alerts: list[EmotionAlert]
    at_risk_conversations: list[int]
    failed_deliveries: list[OutboxMessage]
    more_conversations: bool = False
    care_notes: list[CareNote] = field(default_factory=list)  # agents' personal notes after solving, newest first
    flags: dict[str, bool] = field(default_factory=dict)


def _at_risk_clause():
    risky = exists().where(Conversation.customer_id == Customer.id, Conversation.at_risk)
    alerted = exists().where(EmotionAlert.customer_id == Customer.id, EmotionAlert.acknowledged_at.is_(None))
    return or_(risky, alerted)


def search_customers(db: Database, search: CustomerSearch) -> CustomerPage:
    per_page = max(1, min(search.per_page, MAX_PER_PAGE))
    page = max(1, search.page)
    conditions = []
    if search.query and (text := search.query.strip()):
        pattern = f"%{text.lower()}%"
        matches = [
            func.lower(Customer.display_name).like(pattern),
            func.lower(Customer.email) == text.lower(),
            Customer.phone == text,
            Customer.id.in_(select(Identity.customer_id).where(Identity.platform_user_id == text)),
        ]
        if (wanted := row_id(text.lstrip("#"))) is not None:
            matches.append(Customer.id == wanted)
        conditions.append(or_(*matches))
    if search.channel:
        conditions.append(exists().where(Identity.customer_id == Customer.id, Identity.platform == search.channel))
    if search.tier:
        conditions.append(Customer.tier == search.tier)
    if search.at_risk is not None:
        conditions.append(_at_risk_clause() if search.at_risk else ~_at_risk_clause())
    with db.session() as session:
        total = session.execute(select(func.count()).select_from(Customer).where(*conditions)).scalar_one()
        found = session.execute(
            select(Customer, _at_risk_clause().label("at_risk"))
            .where(*conditions)
            .order_by(Customer.last_seen_at.desc(), Customer.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        ids = [customer.id for customer, _ in found]
        channels: dict[int, set[str]] = {i: set() for i in ids}
        if ids:
            for customer_id, platform in session.execute(
                select(Identity.customer_id, Identity.platform).where(Identity.customer_id.in_(ids))
            ):
                channels[customer_id].add(platform)
    rows = [
        CustomerRow(
            c.id,
            c.display_name,
            c.tier,
            c.language,
            c.email,
            c.phone,
            tuple(sorted(channels[c.id])),
            bool(risky),
            c.last_seen_at,
        )
        for c, risky in found
    ]
    return CustomerPage(rows, total, page, per_page)


def customer_360(
    db: Database, customer_id: int, viewer: str | None = None, conversation_limit: int = 20
) -> Customer360 | None:
    """Everything a customer page shows; the `conversation_limit` newest conversations carry transcripts."""
    with db.session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return None
        conversations = _newest(session, Conversation, customer_id, conversation_limit + 1)
        shown = conversations[:conversation_limit]
        messages: dict[int, list[Message]] = {c.id: [] for c in shown}
        if shown:
            for message in session.exec(
                select(Message).where(Message.conversation_id.in_(list(messages))).order_by(Message.id)
            ):
                messages[message.conversation_id].append(message)
        timeline = [
            EmotionPoint(*row)
            for row in session.execute(
                select(
                    Message.id,
                    Message.conversation_id,
                    Message.created_at,
                    Message.emotion_label,
                    Message.emotion_intensity,
                )
                .where(
                    Message.customer_id == customer_id, Message.direction == "in", Message.emotion_label.is_not(None)
                )
                .order_by(Message.id)
            )
        ]
        notes = _newest(session, Note, customer_id)
        alerts = _newest(session, EmotionAlert, customer_id)
        at_risk = [c.id for c in session.exec(
            select(Conversation).where(Conversation.customer_id == customer_id, Conversation.at_risk)
        )]  # fmt: skip
        failed = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.customer_id == customer_id, OutboxMessage.status == OutboxStatus.FAILED)
                .order_by(OutboxMessage.id.desc())
            )
        )
        return Customer360(
            customer=customer,
            identities=list(
                session.exec(select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id))
            ),
            emotion_timeline=[p if p.intensity is not None else _zero(p) for p in timeline],
            conversations=[ConversationTranscript(c, messages[c.id]) for c in shown],
            handoffs=_newest(session, Handoff, customer_id),
            notes=sorted(notes, key=lambda n: n.author != viewer) if viewer else notes,
            alerts=alerts,
            at_risk_conversations=at_risk,
            failed_deliveries=failed,
            more_conversations=len(conversations) > conversation_limit,
            care_notes=_newest(session, CareNote, customer_id),
            flags={
                "at_risk": bool(at_risk) or any(a.acknowledged_at is None for a in alerts),
                "open_alert": any(a.acknowledged_at is None for a in alerts),
                "failed_deliveries": bool(failed),
            },
        )


def _zero(point: EmotionPoint) -> EmotionPoint:
    return EmotionPoint(point.message_id, point.conversation_id, point.created_at, point.label, 0.0)


def _newest(session: Session, model, customer_id: int, limit: int | None = None) -> list:
    query = select(model).where(model.customer_id == customer_id).order_by(model.id.desc())
    return list(session.exec(query.limit(limit) if limit else query))
