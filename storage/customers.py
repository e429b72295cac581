"""Finding a customer by anything staff know about them, and the customer's own data: view, export, forget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, SQLModel, select

from storage.db import Database, row_id
from storage.models import (
    AuditLog,
    CareNote,
    CareTask,
    Conversation,
    Customer,
    CustomerOrder,
    CustomerPrivacy,
    CustomerSegment,
    EmotionAlert,
    FaqDraft,
    Handoff,
    HandoffSla,
    Identity,
    InboxItem,
    InsightConversation,
    InsightQuestion,
    LinkCode,
    Message,
    Note,
    OutboxMessage,
    PrivacyRequest,
    ScheduledJob,
    StaffNoticeCopy,
)


@dataclass(frozen=True, slots=True)
class CustomerView:
    customer: Customer
    identities: list[Identity]
    messages: list[Message]
    handoffs: list[Handoff]
    notes: list[Note]
    conversations: list[Conversation]
    care_notes: list[CareNote] = field(default_factory=list)  # relationship care, newest last


# Every table that holds rows of one customer: what `export` hands over and `forget` deletes (in this order,
# rows before what they point to). tests/storage/test_conversation_log.py checks that no table is left out.
EXPORTED: dict[str, type[SQLModel]] = {
    "identities": Identity,
    "conversations": Conversation,
    "messages": Message,
    "deliveries": OutboxMessage,  # what was sent to the customer on the platform, agents' replies included
    "handoffs": Handoff,
    "notes": Note,
    "emotion_alerts": EmotionAlert,
    "privacy": CustomerPrivacy,  # consent, "don't analyse my emotions", legal hold
    "pending_requests": PrivacyRequest,
    # relationship care (bot/care)
    "orders": CustomerOrder,
    "segment": CustomerSegment,
    "scheduled_jobs": ScheduledJob,
    "care_tasks": CareTask,
    "staff_inbox": InboxItem,
    "staff_notice_copies": StaffNoticeCopy,  # where notices about them were posted in Slack
    "handoff_sla": HandoffSla,
    "care_notes": CareNote,
    # the insights rollups (storage/reports_rollups.py): outcomes derived from the rows above
    "insight_questions": InsightQuestion,
    "insight_conversations": InsightConversation,
}
FORGOTTEN = (
    InsightQuestion,
    InsightConversation,
    OutboxMessage,
    EmotionAlert,
    ScheduledJob,
    CareTask,
    InboxItem,
    StaffNoticeCopy,
    HandoffSla,
    CareNote,
    CustomerOrder,
    CustomerSegment,
    PrivacyRequest,
    CustomerPrivacy,
    Message,
    Handoff,
    Note,
    Conversation,
    Identity,
)


class CustomerRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, query: str) -> list[Customer]:
        """Customers matching an id (`#12` or `12`), a platform user id, phone, email or part of a name."""
        query = query.strip()
        with self._db.session() as session:
            if (wanted := row_id(query.lstrip("#"))) is not None:
                by_id = session.get(Customer, wanted)
                if by_id is not None:
                    return [by_id]
            by_identity = select(Identity.customer_id).where(Identity.platform_user_id == query)
            pattern = f"%{_escape_like(query.lower())}%"  # "%" or "_" typed is looked for, not a wildcard
            rows = session.exec(
                select(Customer)
                .where(
                    or_(
                        Customer.id.in_(by_identity),
                        Customer.phone == query,
                        func.lower(Customer.email) == query.lower(),
                        func.lower(Customer.display_name).like(pattern, escape="\\"),
                    )
                )
                .order_by(Customer.last_seen_at.desc())
            ).all()
        return list(rows)

    def view(self, customer_id: int, message_limit: int | None = None) -> CustomerView | None:
        with self._db.session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return None
            messages = select(Message).where(Message.customer_id == customer_id).order_by(Message.id.desc())
            if message_limit:
                messages = messages.limit(message_limit)
            return CustomerView(
                customer=customer,
                identities=_all(session, Identity, customer_id),
                messages=list(reversed(session.exec(messages).all())),
                handoffs=_all(session, Handoff, customer_id),
                notes=_all(session, Note, customer_id),
                conversations=_all(session, Conversation, customer_id),
                care_notes=_all(session, CareNote, customer_id),
            )

    def export(self, customer_id: int, actor: str) -> dict[str, Any] | None:
        """Everything stored about one customer, as plain JSON-ready data."""
        with self._db.session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return None
            accesses = [_plain(row) for row in audit_lines_about(session, customer_id)]
            session.add(AuditLog(actor=actor, action="customer.export", target=f"customer:{customer_id}"))
            return {
                "customer": _plain(customer),
                **{key: [_plain(row) for row in _all(session, model, customer_id)] for key, model in EXPORTED.items()},
                "accesses": accesses,  # who on the staff looked at or changed this record (the audit log)
            }

    def forget(self, customer_id: int, actor: str) -> bool:
        """Delete the customer and everything about them; only an audit line that it happened remains."""
        with self._db.session() as session:
            if not erase_customer(session, customer_id, actor):
                return False
        self._db.compact()
        return True

    def add_note(self, customer_id: int, author: str, text: str) -> Note:
        with self._db.session() as session:
            note = Note(customer_id=customer_id, author=author, text=text)
            session.add(note)
            session.flush()
            return note

    def audit(self, actor: str, action: str, target: str | None = None, detail: dict | None = None) -> None:
        with self._db.session() as session:
            session.add(AuditLog(actor=actor, action=action, target=target, detail=detail))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def erase_customer(session: Session, customer_id: int, actor: str) -> bool:
    """Every row about one customer, in one transaction: their own rows, and what is keyed by their platform
    accounts without pointing at them (web chat mailbox rows, link codes issued while a chat was held)."""
    if session.get(Customer, customer_id) is None:
        return False
    accounts = session.exec(
        select(Identity.platform, Identity.platform_user_id).where(Identity.customer_id == customer_id)
    ).all()
    for platform, platform_user_id in accounts:
        session.exec(
            delete(LinkCode).where(LinkCode.platform == platform, LinkCode.platform_user_id == platform_user_id)
        )
        session.exec(
            delete(OutboxMessage).where(
                OutboxMessage.platform == platform, OutboxMessage.platform_user_id == platform_user_id
            )
        )
    # A pending FAQ draft is the customer's own question, word for word (bot/faq_drafts.py); an approved one was
    # rewritten by an editor into the knowledge base and is no longer theirs.
    handoffs = session.exec(select(Handoff.id).where(Handoff.customer_id == customer_id)).all()
    if handoffs:
        sources = [f"handoff:{handoff}" for handoff in handoffs]
        session.exec(delete(FaqDraft).where(FaqDraft.source.in_(sources), FaqDraft.status == "pending"))
    for table in FORGOTTEN:
        session.exec(delete(table).where(table.customer_id == customer_id))
    for table in reversed(SQLModel.metadata.sorted_tables):  # tables added later by other features
        if "customer_id" in table.c and table.name != Customer.__tablename__:
            session.exec(delete(table).where(table.c.customer_id == customer_id))
    session.exec(delete(Customer).where(Customer.id == customer_id))
    _scrub_audit_details(session, f"customer:{customer_id}")
    session.add(AuditLog(actor=actor, action="customer.forget", target=f"customer:{customer_id}"))
    return True


def audit_lines_about(session: Session, customer_id: int) -> list[AuditLog]:
    """The audit lines whose target names this customer ("customer:1" is not "customer:12"), from the record's
    creation on: SQLite gives a new customer the number of a deleted newest one, whose lines are not theirs."""
    target = f"customer:{customer_id}"
    customer = session.get(Customer, customer_id)
    query = select(AuditLog).where(AuditLog.target.contains(target)).order_by(AuditLog.id)
    if customer is not None:
        query = query.where(AuditLog.created_at >= customer.created_at)
    return [row for row in session.exec(query).all() if target in (row.target or "").split(",")]


def _scrub_audit_details(session: Session, target: str) -> None:
    """Audit lines about a forgotten customer keep who did what and when, not what they typed (a lookup by
    phone number or name is personal data)."""
    rows = session.exec(select(AuditLog).where(AuditLog.target.contains(target), AuditLog.detail.is_not(None)))
    for row in rows.all():
        if target in (row.target or "").split(","):  # "customer:1" is not "customer:12"
            row.detail = None
            session.add(row)


def _all(session: Session, model: type[SQLModel], customer_id: int) -> list:
    order = next(iter(model.__table__.primary_key.columns))  # care_segment and handoff_sla have no `id`
    return list(session.exec(select(model).where(model.customer_id == customer_id).order_by(order)).all())


def _plain(row: SQLModel) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.model_dump().items()}
