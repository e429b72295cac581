"""Handoffs in the database: guarded state changes (one open handoff per conversation, one claim, one close),
the desk threads that show them, and the facts a summary needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.db import Database
from storage.models import (
    Conversation,
    ConversationState,
    Customer,
    DeskThread,
    Handoff,
    Identity,
    Message,
    utcnow,
)


class HandoffStatus:
    REQUESTED = "requested"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    MESSAGE = "message"  # nobody could take it when asked: a message for staff; the chat stayed with the bot


OPEN_STATUSES = (HandoffStatus.REQUESTED, HandoffStatus.CLAIMED)
# Shown in the queue and still to be dealt with by staff (claim or resolve).
PENDING_STATUSES = (*OPEN_STATUSES, HandoffStatus.MESSAGE)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a message to the customer of a conversation goes."""

    customer_id: int
    conversation_id: int
    platform: str
    platform_user_id: str
    chat_id: str | None
    language: str


@dataclass(frozen=True, slots=True)
class CustomerRow:
    customer_id: int
    name: str | None
    tier: str
    channel: str
    previous_handoffs: int


@dataclass(frozen=True, slots=True)
class Briefing:
    """What a new handoff's summary is written from, read in the transaction that opens it."""

    handoff: Handoff
    customer: CustomerRow
    transcript: list[Message]


class HandoffRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def database(self) -> Database:
        return self._db

    # -- starting -------------------------------------------------------------------------------------------

    def start(
        self,
        conversation_id: int,
        customer_id: int,
        reason: str,
        evidence: dict,
        now: datetime | None = None,
        summarise: Callable[[Briefing], str | None] | None = None,
        status: str = HandoffStatus.REQUESTED,
    ) -> tuple[Handoff, bool]:
        """Open a handoff and move the conversation bot → waiting_agent; an already open one is returned as is.
        With status "message" the conversation stays with the bot and one message row per conversation is kept.

        `summarise` writes the new handoff's summary in the same transaction, so no desk ever sees a handoff
        without one, and the message path pays for one transaction instead of four."""
        with self._db.session() as session:
            if status == HandoffStatus.MESSAGE:
                existing = session.exec(
                    select(Handoff).where(
                        Handoff.conversation_id == conversation_id, Handoff.status.in_(PENDING_STATUSES)
                    )
                ).first()
                if existing is not None:
                    return existing, False
                return self._insert(session, conversation_id, customer_id, reason, evidence, now, summarise, status)
            moved = session.exec(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == ConversationState.BOT)
                .values(state=ConversationState.WAITING_AGENT, assigned_agent=None)
            ).rowcount
            if not moved:
                existing = self._open_in(session, conversation_id)
                if existing is not None:
                    return existing, False
            return self._insert(session, conversation_id, customer_id, reason, evidence, now, summarise, status)

    @staticmethod
    def _insert(session, conversation_id, customer_id, reason, evidence, now, summarise, status):
        handoff = Handoff(
            conversation_id=conversation_id,
            customer_id=customer_id,
            reason=reason,
            evidence=evidence,
            requested_at=now or utcnow(),
            status=status,
        )
        session.add(handoff)
        session.flush()
        row = _customer_row(session, customer_id, conversation_id) if summarise else None
        if row is not None:
            handoff.summary = summarise(Briefing(handoff, row, _transcript(session, conversation_id)))
        return handoff, True

    # -- agents ---------------------------------------------------------------------------------------------

    def claim(self, handoff_id: int, agent: str, now: datetime, take_over: bool = False) -> bool:
        """Requested → claimed by `agent`; with `take_over`, also from another agent. False when it did not move."""
        allowed = PENDING_STATUSES if take_over else (HandoffStatus.REQUESTED, HandoffStatus.MESSAGE)
        with self._db.session() as session:
            moved = session.exec(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status.in_(allowed))
                .values(status=HandoffStatus.CLAIMED, agent=agent, claimed_at=now)
            ).rowcount
            if moved:
                handoff = session.get(Handoff, handoff_id)
                session.exec(
                    update(Conversation)
                    .where(Conversation.id == handoff.conversation_id)
                    .values(state=ConversationState.AGENT, assigned_agent=agent)
                )
            return bool(moved)

    def resolve(self, handoff_id: int, agent: str | None, outcome: str, now: datetime) -> bool:
        """Any open status → resolved; the conversation goes back to the bot. False when it was already closed."""
        with self._db.session() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                return False
            values = {"status": HandoffStatus.RESOLVED, "resolved_at": now, "outcome": outcome}
            if handoff.agent is None and agent is not None:
                values["agent"] = agent
            moved = session.exec(
                update(Handoff).where(Handoff.id == handoff_id, Handoff.status.in_(PENDING_STATUSES)).values(**values)
            ).rowcount
            if moved:
                session.exec(
                    update(Conversation)
                    .where(Conversation.id == handoff.conversation_id)
                    .values(state=ConversationState.BOT, assigned_agent=None)
                )
            return bool(moved)

    def record_rating(self, handoff_id: int, customer_id: int, rating: int) -> bool:
        """The customer's 1–5 rating of a closed handoff, once; False for someone else's or an unknown handoff."""
        return self._update_where(
            handoff_id,
            (Handoff.customer_id == customer_id, Handoff.status == HandoffStatus.RESOLVED, Handoff.rating.is_(None)),
            rating=rating,
        )

    def awaiting_rating(self, customer_id: int) -> Handoff | None:
        """The customer's latest closed handoff that a person worked on and that has no rating yet."""
        with self._db.session() as session:
            latest = session.exec(
                select(Handoff)
                .where(Handoff.customer_id == customer_id, Handoff.status == HandoffStatus.RESOLVED)
                .order_by(Handoff.id.desc())
            ).first()
        if latest is None or latest.rating is not None or latest.claimed_at is None:
            return None
        return latest

    def mark_reminded(self, handoff_id: int, now: datetime) -> bool:
        return self._update_where(
            handoff_id, (Handoff.status == HandoffStatus.REQUESTED, Handoff.reminded_at.is_(None)), reminded_at=now
        )

    def _update_where(self, handoff_id: int, conditions: tuple, **values: object) -> bool:
        """Set `values` on the handoff only while all `conditions` hold; whether it did (safe under concurrency)."""
        with self._db.session() as session:
            query = update(Handoff).where(Handoff.id == handoff_id, *conditions).values(**values)
            return bool(session.exec(query).rowcount)

    # -- reading --------------------------------------------------------------------------------------------

    def get(self, handoff_id: int) -> Handoff | None:
        with self._db.session() as session:
            return session.get(Handoff, handoff_id)

    def open_for_conversation(self, conversation_id: int) -> Handoff | None:
        with self._db.session() as session:
            return self._open_in(session, conversation_id)

    def queue(self, include_closed: int = 20) -> list[Handoff]:
        """Open handoffs and messages left for staff oldest first, then the most recently closed ones."""
        with self._db.session() as session:
            open_ones = session.exec(
                select(Handoff).where(Handoff.status.in_(PENDING_STATUSES)).order_by(Handoff.id)
            ).all()
            closed = session.exec(
                select(Handoff)
                .where(Handoff.status == HandoffStatus.RESOLVED)
                .order_by(Handoff.id.desc())
                .limit(include_closed)
            ).all()
        return [*open_ones, *closed]

    def waiting_before(self, handoff_id: int) -> int:
        """How many handoffs asked before this one are still waiting for an agent."""
        with self._db.session() as session:
            return len(
                session.exec(
                    select(Handoff.id).where(Handoff.status == HandoffStatus.REQUESTED, Handoff.id < handoff_id)
                ).all()
            )

    def unclaimed_since(self, before: datetime) -> list[Handoff]:
        """Requested handoffs older than `before` whose customer has not been told about the wait yet."""
        with self._db.session() as session:
            return list(
                session.exec(
                    select(Handoff)
                    .where(
                        Handoff.status == HandoffStatus.REQUESTED,
                        Handoff.reminded_at.is_(None),
                        Handoff.requested_at <= before,
                    )
                    .order_by(Handoff.id)
                ).all()
            )

    def recipient(self, conversation_id: int) -> Recipient | None:
        """None when the customer (or the conversation) no longer exists, e.g. after they deleted their data."""
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            customer = session.get(Customer, conversation.customer_id)
            identity = session.exec(
                select(Identity).where(
                    Identity.customer_id == conversation.customer_id, Identity.platform == conversation.platform
                )
            ).first()
            if customer is None or identity is None:
                return None
            return Recipient(
                customer.id,
                conversation.id,
                conversation.platform,
                identity.platform_user_id,
                conversation.chat_id,
                customer.language or "en",
            )

    def transcript(self, conversation_id: int, limit: int = 40, after_id: int = 0) -> list[Message]:
        with self._db.session() as session:
            return _transcript(session, conversation_id, limit, after_id)

    def log_agent_message(self, recipient: Recipient, text: str, key: str, decision: str) -> bool:
        """Write an agent's (or the desk's) message to the customer into the log; False if `key` was logged before."""
        try:
            with self._db.session() as session:
                session.add(
                    Message(
                        conversation_id=recipient.conversation_id,
                        customer_id=recipient.customer_id,
                        direction="out",
                        platform=recipient.platform,
                        platform_message_id=key,
                        text=text,
                        language=recipient.language,
                        decision=decision,
                    )
                )
            return True
        except IntegrityError:
            return False

    def agent_message_logged(self, handoff_id: int, key: str) -> bool:
        """Whether a message with this `key` was logged for the handoff's conversation (a platform's retry)."""
        with self._db.session() as session:
            found = session.exec(
                select(Message.id)
                .join(Handoff, Handoff.conversation_id == Message.conversation_id)
                .where(Handoff.id == handoff_id, Message.platform_message_id == key)
            ).first()
        return found is not None

    # -- desk threads ---------------------------------------------------------------------------------------

    def save_thread(self, handoff_id: int, desk: str, channel: str, thread_id: str) -> None:
        try:
            with self._db.session() as session:
                session.add(DeskThread(handoff_id=handoff_id, desk=desk, channel=channel, thread_id=thread_id))
        except IntegrityError:  # already known: a retried post, or a stale thread of a deleted handoff
            self._replace_stale_thread(handoff_id, desk, channel, thread_id)

    def _replace_stale_thread(self, handoff_id: int, desk: str, channel: str, thread_id: str) -> None:
        """SQLite gives a new handoff the number of a deleted newest one (its customer deleted their data): the
        thread kept for that one must not receive this customer's messages."""
        with self._db.session() as session:
            handoff = session.get(Handoff, handoff_id)
            row = session.exec(
                select(DeskThread).where(DeskThread.handoff_id == handoff_id, DeskThread.desk == desk)
            ).first()
            if handoff is None or row is None or row.created_at >= handoff.requested_at:
                return
            row.channel, row.thread_id, row.created_at = channel, thread_id, utcnow()
            session.add(row)

    def thread_for(self, handoff_id: int, desk: str) -> DeskThread | None:
        with self._db.session() as session:
            return session.exec(
                select(DeskThread).where(DeskThread.handoff_id == handoff_id, DeskThread.desk == desk)
            ).first()

    def handoff_for_thread(self, desk: str, channel: str, thread_id: str) -> int | None:
        with self._db.session() as session:
            return session.exec(
                select(DeskThread.handoff_id).where(
                    DeskThread.desk == desk, DeskThread.channel == channel, DeskThread.thread_id == thread_id
                )
            ).first()

    def was_shown(self, handoff_id: int) -> bool:
        """A desk showed this handoff: if the handoff itself is gone, its customer deleted their data."""
        with self._db.session() as session:
            return session.exec(select(DeskThread.id).where(DeskThread.handoff_id == handoff_id)).first() is not None

    @staticmethod
    def _open_in(session, conversation_id: int) -> Handoff | None:
        return session.exec(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
            .order_by(Handoff.id.desc())
        ).first()


def _customer_row(session: Session, customer_id: int, conversation_id: int) -> CustomerRow | None:
    earlier = (
        select(func.count(Handoff.id))
        .where(Handoff.customer_id == customer_id, Handoff.conversation_id != conversation_id)
        .scalar_subquery()
    )
    found = session.exec(
        select(Customer.id, Customer.display_name, Customer.tier, Conversation.platform, earlier)
        .join(Conversation, Conversation.customer_id == Customer.id)
        .where(Customer.id == customer_id, Conversation.id == conversation_id)
    ).first()
    return CustomerRow(*found) if found else None


def _transcript(session: Session, conversation_id: int, limit: int = 40, after_id: int = 0) -> list[Message]:
    rows = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
