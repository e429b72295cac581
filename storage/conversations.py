"""The message log: who wrote, in which conversation, what the bot decided — written one exchange at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, null, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.db import Database
from storage.models import (
    Conversation,
    ConversationState,
    Customer,
    CustomerPrivacy,
    Identity,
    Message,
    OutboxMessage,
    capped_name,
    utcnow,
)

RECENT_TURNS = 6

# The message path's statements are built once: on SQLite, building one costs more than running it.
_SEEN = (
    select(Message.id)
    .where(Message.platform == bindparam("platform"), Message.platform_message_id == bindparam("message"))
    .limit(1)
)


def _by_identity(*columns):
    """`columns` of the customer behind (:platform, :user) and of their newest open conversation on that
    platform (NULL when there is none), in one query."""
    open_here = and_(
        Conversation.customer_id == Customer.id,
        Conversation.platform == bindparam("platform"),
        Conversation.state != ConversationState.CLOSED,
    )
    return (
        select(*columns)
        .join(Identity, Identity.customer_id == Customer.id)
        .outerjoin(Conversation, open_here)
        .outerjoin(CustomerPrivacy, CustomerPrivacy.customer_id == Customer.id)
        .where(Identity.platform == bindparam("platform"), Identity.platform_user_id == bindparam("user"))
        .order_by(Conversation.id.desc())
        .limit(1)
    )


_WHO = _by_identity(
    Customer.id,
    Customer.language,
    Customer.tier,
    Conversation.id,
    Conversation.state,
    func.coalesce(CustomerPrivacy.emotion_analysis, True),
)
_KNOWN = _by_identity(Customer, Conversation)
_RECENT = (
    select(
        Message.direction,
        Message.text,
        Message.emotion_label,
        Message.emotion_intensity,
        Message.decision,
        Message.created_at,
        Message.faq_id,
    )
    .where(Message.conversation_id == bindparam("conversation"))
    .order_by(Message.id.desc())
    .limit(RECENT_TURNS * 2)
)
_TOUCH_CONVERSATION = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation"),
        Conversation.customer_id == bindparam("customer"),  # not moved by an account merge meanwhile
        Conversation.state != ConversationState.CLOSED,
    )
    .values(last_message_at=bindparam("now"))
)
_TOUCH_CUSTOMER = (
    update(Customer)
    .where(Customer.id == bindparam("customer"))
    .values(last_seen_at=bindparam("now"), language=func.coalesce(bindparam("language"), Customer.language))
)

_INSERT_MESSAGES = insert(Message.__table__)
_INSERT_OUTBOX = insert(OutboxMessage.__table__)
_OUTBOX_COLUMNS = tuple(column.name for column in OutboxMessage.__table__.columns if column.name != "id")


@dataclass(frozen=True, slots=True)
class RecentTurn:
    text: str
    emotion_label: str | None
    emotion_intensity: float | None
    bot_decision: str | None
    created_at: datetime
    faq_id: str | None = None  # the entry the bot answered it with


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
    emotion_analysis: bool | None = None  # the customer's choice, read with the rest (None: not read here)


@dataclass(slots=True)
class LoggedMessage:
    direction: str
    text: str
    content_type: str | None = None  # None for text
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
    taken: Row | None = None  # what `take_head` returned: the chat's outbox head, taken for its first attempt


TakeHead = Callable[[Connection], Row | None]


class ConversationLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def snapshot(self, platform: str, platform_user_id: str, platform_message_id: str | None) -> ConversationSnapshot:
        with self._db.session() as session:
            duplicate = platform_message_id is not None and _seen(session, platform, platform_message_id)
            connection = session.connection()
            found = connection.execute(_WHO, {"platform": platform, "user": platform_user_id}).first()
            if found is None:
                return ConversationSnapshot(duplicate=duplicate)
            customer_id, language, tier, conversation_id, state, emotion_analysis = found
            if conversation_id is None:
                return ConversationSnapshot(
                    customer_id,
                    language=language,
                    tier=tier,
                    duplicate=duplicate,
                    emotion_analysis=bool(emotion_analysis),
                )
            newest_first = connection.execute(_RECENT, {"conversation": conversation_id}).all()
        return ConversationSnapshot(
            customer_id=customer_id,
            conversation_id=conversation_id,
            state=state,
            language=language,
            tier=tier,
            duplicate=duplicate,
            recent=_turns(newest_first[::-1]),
            last_reply_at=next((m.created_at for m in newest_first if m.direction == "out"), None),
            emotion_analysis=bool(emotion_analysis),
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
        known: ConversationSnapshot | None = None,
        take_head: TakeHead | None = None,
    ) -> Exchange:
        """Log a customer message and the bot's replies in one transaction.

        `deliveries` are outbox rows for the replies, stored in the same transaction so that a crash can
        never leave a logged message whose answer was not queued. A platform message id seen before (a
        retried delivery) writes nothing and reports a duplicate. `known` is this identity's snapshot taken
        just before: its conversation is written to directly unless it was closed or merged away since.
        `take_head`, run in the same transaction after the deliveries are stored, takes their chat's next message
        for sending (the outbox's claim), which saves the outbox a transaction of its own.
        """
        display_name = capped_name(display_name)
        for attempt in range(2):
            try:
                return self._record(
                    platform, platform_user_id, chat_id, display_name, inbound, replies, deliveries, known, take_head
                )
            except IntegrityError:
                if inbound.platform_message_id is not None:
                    with self._db.session() as session:
                        if _seen(session, platform, inbound.platform_message_id):
                            customer, conversation = _known(session, platform, platform_user_id)
                            return Exchange(customer.id, conversation.id if conversation else 0, duplicate=True)
                if attempt == 1:
                    raise
                # A new customer's first messages on two workers at once: the other one created the identity
                # first. Its customer is ours too; write this message to it.
                known = None
        raise AssertionError("unreachable")

    def _record(
        self,
        platform: str,
        platform_user_id: str,
        chat_id: str | None,
        display_name: str | None,
        inbound: LoggedMessage,
        replies: list[LoggedMessage],
        deliveries: list[OutboxMessage],
        known: ConversationSnapshot | None,
        take_head: TakeHead | None,
    ) -> Exchange:
        with self._db.session() as session:
            now = utcnow()
            if known is not None and _touch(session, known, inbound.language, now):
                customer_id, conversation_id = known.customer_id, known.conversation_id
            else:
                customer, conversation = _customer_and_conversation(
                    session, platform, platform_user_id, chat_id, display_name
                )
                if inbound.language:
                    customer.language = inbound.language
                customer.last_seen_at = conversation.last_message_at = now
                session.add(customer)
                session.add(conversation)
                customer_id, conversation_id = customer.id, conversation.id
            rows = [_message_row(m, platform, customer_id, conversation_id, now) for m in (inbound, *replies)]
            connection = session.connection()  # Core inserts: one statement for the messages, one for the outbox
            connection.execute(_INSERT_MESSAGES, rows)
            if deliveries:
                for delivery in deliveries:
                    delivery.customer_id, delivery.conversation_id = customer_id, conversation_id
                connection.execute(_INSERT_OUTBOX, [_columns(delivery, _OUTBOX_COLUMNS) for delivery in deliveries])
            taken = take_head(connection) if deliveries and take_head is not None else None
            return Exchange(customer_id, conversation_id, taken=taken)


def _seen(session: Session, platform: str, platform_message_id: str) -> bool:
    found = session.connection().execute(_SEEN, {"platform": platform, "message": platform_message_id})
    return found.first() is not None


def _touch(session: Session, known: ConversationSnapshot, language: str | None, now: datetime) -> bool:
    """Mark the snapshot's customer and conversation active with two UPDATEs (no ORM load); False when the
    conversation was closed, deleted or merged into another customer since, so the caller looks again."""
    if known.conversation_id is None:
        return False
    touched = {"conversation": known.conversation_id, "customer": known.customer_id, "now": now}
    connection = session.connection()  # Core: the ORM's bulk UPDATE path costs more than the statements
    if connection.execute(_TOUCH_CONVERSATION, touched).rowcount != 1:
        return False
    connection.execute(_TOUCH_CUSTOMER, {"customer": known.customer_id, "now": now, "language": language})
    return True


def _known(session: Session, platform: str, platform_user_id: str) -> tuple[Customer, Conversation | None] | None:
    row = session.exec(_KNOWN, params={"platform": platform, "user": platform_user_id}).first()
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


def _columns(row: OutboxMessage, names: tuple[str, ...]) -> dict:
    values = {name: getattr(row, name) for name in names}
    values["choices"] = values["choices"] or null()  # SQL NULL, as the ORM stored it (a Core None is JSON null)
    return values


def _message_row(logged: LoggedMessage, platform: str, customer_id: int, conversation_id: int, now: datetime) -> dict:
    return {
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "direction": logged.direction,
        "platform": platform,
        "platform_message_id": logged.platform_message_id,
        "text": logged.text,
        "content_type": logged.content_type,
        "language": logged.language,
        "emotion_label": logged.emotion_label,
        "emotion_intensity": logged.emotion_intensity,
        "emotion_signals": logged.emotion_signals or null(),  # SQL NULL (a Core None is JSON null)
        "faq_id": logged.faq_id,
        "score": logged.score,
        "decision": logged.decision,
        "created_at": now,
    }


def _turns(messages: Sequence[Row]) -> tuple[RecentTurn, ...]:
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
                faq_id=message.faq_id,
            )
        )
    return tuple(turns[-RECENT_TURNS:])
