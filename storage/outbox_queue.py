"""The outbox's queue statements: which chats are due, taking a chat's head for one attempt, marking it delivered.

Built once, on the table (not the ORM class): on the message path building a statement, or going through the ORM,
costs more than SQLite takes to run it. Every one is a single round trip.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session

from storage.models import OutboxMessage, OutboxStatus

OUTBOX = OutboxMessage.__table__
_EARLIER = OUTBOX.alias("earlier")


def _same_chat(one, other):
    """Two outbox rows for the same chat (chat_id, or the user where a platform has no separate chat id)."""
    return or_(
        one.c.chat_id == other.c.chat_id,
        and_(one.c.chat_id.is_(None), other.c.chat_id.is_(None), one.c.platform_user_id == other.c.platform_user_id),
    )


_DUE_CHATS = (
    select(OUTBOX.c.platform, OUTBOX.c.chat_id, OUTBOX.c.platform_user_id)
    .where(
        OUTBOX.c.status == OutboxStatus.PENDING,
        OUTBOX.c.next_attempt_at <= bindparam("now"),
        ~exists().where(
            _EARLIER.c.status == OutboxStatus.PENDING,
            _EARLIER.c.platform == OUTBOX.c.platform,
            _same_chat(_EARLIER, OUTBOX),
            _EARLIER.c.id < OUTBOX.c.id,
        ),
    )
    .order_by(OUTBOX.c.id)
    .limit(bindparam("limit"))
)

_HEAD = (
    select(OUTBOX.c.id)
    .where(
        OUTBOX.c.status == OutboxStatus.PENDING,
        OUTBOX.c.platform == bindparam("of_platform"),
        or_(
            OUTBOX.c.chat_id == bindparam("of_chat"),
            and_(OUTBOX.c.chat_id.is_(None), OUTBOX.c.platform_user_id == bindparam("of_chat")),
        ),
    )
    .order_by(OUTBOX.c.id)
    .limit(1)
    .scalar_subquery()
)
# The conditions are checked again on the row itself, so that of several processes racing for one head exactly
# one takes it (PostgreSQL re-evaluates them on the locked row; SQLite has one writer at a time).
_CLAIM_HEAD = (
    update(OUTBOX)
    .where(OUTBOX.c.id == _HEAD, OUTBOX.c.status == OutboxStatus.PENDING, OUTBOX.c.next_attempt_at <= bindparam("now"))
    .values(next_attempt_at=bindparam("lease"))
    .returning(*OUTBOX.c)
)
_CLAIM_ROW = (
    update(OUTBOX)
    .where(
        OUTBOX.c.id == bindparam("row"),
        OUTBOX.c.status == OutboxStatus.PENDING,
        OUTBOX.c.next_attempt_at <= bindparam("now"),
    )
    .values(next_attempt_at=bindparam("lease"))
)
_RELEASE = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row"), OUTBOX.c.status == OutboxStatus.PENDING)
    .values(next_attempt_at=bindparam("now"))
)
_MARK_DELIVERED = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row"))
    .values(
        status=OutboxStatus.DELIVERED,
        attempts=OUTBOX.c.attempts + 1,
        delivered_at=bindparam("at"),
        platform_message_id=bindparam("platform_id"),
        last_error=None,
    )
)

Chat = tuple[str, str | None]  # (platform, chat id or, where the platform has none, the user id)


def due_chats(session: Session, now: datetime, limit: int) -> list[Chat]:
    """The chats whose oldest undelivered message may be sent now, oldest first."""
    rows = session.connection().execute(_DUE_CHATS, {"now": now, "limit": limit}).all()
    return list(dict.fromkeys((platform, chat_id or user) for platform, chat_id, user in rows))


def claim_head(connection: Connection, chat: Chat, now: datetime, lease: datetime) -> Row | None:
    """Take the chat's oldest pending row for one attempt (its lease until `lease`) if it is due; None when it is
    not due, there is none, or another process has it. One statement."""
    platform, chat_key = chat
    found = connection.execute(_CLAIM_HEAD, {"of_platform": platform, "of_chat": chat_key, "now": now, "lease": lease})
    return found.first()


def claim_row(connection: Connection, row_id: int, now: datetime, lease: datetime) -> bool:
    return connection.execute(_CLAIM_ROW, {"row": row_id, "now": now, "lease": lease}).rowcount == 1


def mark_delivered(connection: Connection, row_id: int, at: datetime, platform_message_id: str | None) -> bool:
    """False when the row is gone (the customer was forgotten meanwhile)."""
    marked = connection.execute(_MARK_DELIVERED, {"row": row_id, "at": at, "platform_id": platform_message_id})
    return marked.rowcount == 1


def release(connection: Connection, row_id: int, now: datetime) -> None:
    """Give a taken row back unsent (due at `now`), for whoever looks next."""
    connection.execute(_RELEASE, {"row": row_id, "now": now})
