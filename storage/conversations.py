"""The message log: who wrote, in which conversation, what the bot decided — written one exchange at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.db import Database
from storage.models import Conversation, ConversationState, Customer, Identity, Message, OutboxMessage, utcnow

RECENT_TURNS = 6


@dataclass(frozen=True, slots=True)
class RecentTurn:
    text: str
    emotion_label: str | None
    emotion_intensity: float | None
    bot_decision: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationSnapshot:
    """What the engine needs to know before it answers; read without writing anything."""

    customer_id: int | None = None
    conversation_id: int | None = None
    state: str = ConversationState.BOT
    language: str | None = None
    tier: str | None = None
    duplicate: bool = False
    recent: tuple[RecentTurn, ...] = ()
    last_reply_at: datetime | None = None


@dataclass(slots=True)
class LoggedMessage:
    direction: str
    text: str
    language: str | None = None
    platform_message_id: str | None = None
    emotion_label: str | None = None
    emotion_intensity: float | None = None
    emotion_signals: list[str] = field(default_factory=list)
    faq_id: str | None = None
    score: float | None = None
    decision: str | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    customer_id: int
    conversation_id: int
    duplicate: bool = False


class ConversationLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def snapshot(self, platform: str, platform_user_id: str, platform_message_id: str | None) -> ConversationSnapshot:
        with self._db.session() as session:
            duplicate = platform_message_id is not None and _seen(session, platform, platform_message_id)
            found = _known(session, platform, platform_user_id)
            if found is None:
                return ConversationSnapshot(duplicate=duplicate)
            customer, conversation = found
            if conversation is None:
                return ConversationSnapshot(
                    customer.id, language=customer.language, tier=customer.tier, duplicate=duplicate
                )
            messages = session.exec(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id.desc())
                .limit(RECENT_TURNS * 2)
            ).all()
        return ConversationSnapshot(
            customer_id=customer.id,
            conversation_id=conversation.id,
            state=conversation.state,
            language=customer.language,
            tier=customer.tier,
            duplicate=duplicate,
            recent=_turns(list(reversed(messages))),
            last_reply_at=next((m.created_at for m in messages if m.direction == "out"), None),
        )

    def record_exchange(
        self,
        platform: str,
        platform_user_id: str,
        chat_id: str | None,
        display_name: str | None,
        inbound: LoggedMessage,
        replies: list[LoggedMessage],
        deliveries: list[OutboxMessage] = (),
    ) -> Exchange:
        """Log a customer message and the bot's replies in one transaction.

        `deliveries` are outbox rows for the replies, stored in the same transaction so that a crash can
        never leave a logged message whose answer was not queued. A platform message id seen before (a
        retried delivery) writes nothing and reports a duplicate.
        """
        try:
            with self._db.session() as session:
                customer, conversation = _customer_and_conversation(
                    session, platform, platform_user_id, chat_id, display_name
                )
                if inbound.language:
                    customer.language = inbound.language
                now = utcnow()
                customer.last_seen_at = conversation.last_message_at = now
                for logged in (inbound, *replies):
                    session.add(_message(logged, platform, customer.id, conversation.id))
                for delivery in deliveries:
                    delivery.customer_id, delivery.conversation_id = customer.id, conversation.id
                    session.add(delivery)
                session.add(customer)
                session.add(conversation)
                return Exchange(customer.id, conversation.id)
        except IntegrityError:
            if inbound.platform_message_id is None:
                raise
            with self._db.session() as session:
                if not _seen(session, platform, inbound.platform_message_id):
                    raise
                customer, conversation = _known(session, platform, platform_user_id)
                return Exchange(customer.id, conversation.id if conversation else 0, duplicate=True)


def _seen(session: Session, platform: str, platform_message_id: str) -> bool:
    query = select(Message.id).where(Message.platform == platform, Message.platform_message_id == platform_message_id)
    return session.exec(query).first() is not None


def _known(session: Session, platform: str, platform_user_id: str) -> tuple[Customer, Conversation | None] | None:
    """The customer behind a platform identity and their open conversation on that platform, in one query."""
    open_here = and_(
        Conversation.customer_id == Customer.id,
        Conversation.platform == platform,
        Conversation.state != ConversationState.CLOSED,
    )
    query = (
        select(Customer, Conversation)
        .join(Identity, Identity.customer_id == Customer.id)
        .outerjoin(Conversation, open_here)
        .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    row = session.exec(query).first()
    return (row[0], row[1]) if row else None


def _customer_and_conversation(
    session: Session, platform: str, platform_user_id: str, chat_id: str | None, display_name: str | None
) -> tuple[Customer, Conversation]:
    found = _known(session, platform, platform_user_id)
    if found is None:
        customer = Customer(display_name=display_name)
        session.add(customer)
        session.flush()
        session.add(
            Identity(
                customer_id=customer.id,
                platform=platform,
                platform_user_id=platform_user_id,
                display_name=display_name,
            )
        )
        conversation = None
    else:
        customer, conversation = found
    if conversation is None:
        conversation = Conversation(customer_id=customer.id, platform=platform, chat_id=chat_id)
        session.add(conversation)
        session.flush()
    return customer, conversation


def _message(logged: LoggedMessage, platform: str, customer_id: int, conversation_id: int) -> Message:
    return Message(
        conversation_id=conversation_id,
        customer_id=customer_id,
        direction=logged.direction,
        platform=platform,
        platform_message_id=logged.platform_message_id,
        text=logged.text,
        language=logged.language,
        emotion_label=logged.emotion_label,
        emotion_intensity=logged.emotion_intensity,
        emotion_signals=logged.emotion_signals or None,
        faq_id=logged.faq_id,
        score=logged.score,
        decision=logged.decision,
    )


def _turns(messages: list[Message]) -> tuple[RecentTurn, ...]:
    """Customer messages, each with the decision of the bot reply that followed it."""
    turns: list[RecentTurn] = []
    for index, message in enumerate(messages):
        if message.direction != "in":
            continue
        reply = next((m for m in messages[index + 1 :] if m.direction == "out"), None)
        turns.append(
            RecentTurn(
                text=message.text,
                emotion_label=message.emotion_label,
                emotion_intensity=message.emotion_intensity,
                bot_decision=reply.decision if reply else None,
                created_at=message.created_at,
            )
        )
    return tuple(turns[-RECENT_TURNS:])
