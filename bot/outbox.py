"""One outbox delivers everything to customers: stored first, sent with retries and backoff, never silently lost.

Bot answers sent asynchronously, agent replies and rating requests all go through `Outbox.enqueue`; a
platform adapter provides a `Sender`. Pending rows survive a restart and are delivered by the next run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.messages import Choice, OutboundMessage
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger("warmdesk.outbox")


class DeliveryError(Exception):
    """A send that did not go through; `permanent` failures are not retried."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: OutboundMessage) -> str | None:
        """Deliver one message; return the platform's message id if it gives one, raise DeliveryError if not."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay: float = 1.0
    max_delay: float = 300.0
    claim_seconds: float = 120.0  # how long one attempt may hold a row before another process may retry it

    def delay(self, attempts: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, attempts - 1))


class Outbox:
    def __init__(
        self,
        db: Database,
        senders: dict[str, Sender] | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._senders: dict[str, Sender] = dict(senders or {})
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._wake = asyncio.Event()

    def add_sender(self, platform: str, sender: Sender) -> None:
        self._senders[platform] = sender

    def enqueue(
        self,
        message: OutboundMessage,
        *,
        customer_id: int | None = None,
        conversation_id: int | None = None,
        dedup_key: str | None = None,
    ) -> int:
        """Store a message for delivery; the same `dedup_key` twice stores it once. Returns the row id."""
        row = outbox_row(message, dedup_key, now=self._clock())
        row.customer_id, row.conversation_id = customer_id, conversation_id
        try:
            with self._db.session() as session:
                session.add(row)
                session.flush()
                row_id = row.id
        except IntegrityError:
            with self._db.session() as session:
                row_id = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)).one()
        self.wake()
        return row_id

    def wake(self) -> None:
        """Deliver now rather than at the next idle tick (call it on the event loop)."""
        self._wake.set()

    async def deliver_due(self, limit: int = 100) -> int:
        """Try every pending message whose time has come, oldest first; returns how many were delivered."""
        now = self._clock()
        with self._db.session() as session:
            due = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).all()
        delivered = 0
        for row in due:
            if self._claim(row.id, now):
                delivered += await self._attempt(row)
        return delivered

    def _claim(self, row_id: int, now: datetime) -> bool:
        """Take a row for one attempt, so that several server processes never send it twice at once.

        The claim is a lease: a process that dies mid-send leaves the row to be retried after it expires.
        """
        with self._db.session() as session:
            claimed = session.exec(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + timedelta(seconds=self._retry.claim_seconds))
            )
            return claimed.rowcount == 1

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set; wakes at once when something is enqueued."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed; retrying")
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    def get(self, row_id: int) -> OutboxMessage | None:
        with self._db.session() as session:
            return session.get(OutboxMessage, row_id)

    def failed_for(self, customer_id: int) -> list[OutboxMessage]:
        with self._db.session() as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.customer_id == customer_id, OutboxMessage.status == OutboxStatus.FAILED)
                    .order_by(OutboxMessage.id)
                ).all()
            )

    async def _attempt(self, row: OutboxMessage) -> bool:
        sender = self._senders.get(row.platform)
        error: DeliveryError | None = None
        platform_message_id = None
        if sender is None:
            error = DeliveryError(f"no sender for platform {row.platform!r}")
        else:
            try:
                platform_message_id = await sender.send(_outbound(row))
            except DeliveryError as failure:
                error = failure
            except Exception as failure:  # a bug or an unexpected SDK error must not stop the other rows
                error = DeliveryError(f"{failure.__class__.__name__}: {failure}")
        with self._db.session() as session:
            current = session.get(OutboxMessage, row.id)
            if current is None:  # the customer was forgotten meanwhile
                return False
            current.attempts += 1
            if error is None:
                current.status = OutboxStatus.DELIVERED
                current.delivered_at = self._clock()
                current.platform_message_id = platform_message_id
                current.last_error = None
            else:
                current.last_error = str(error)[:2000]
                if error.permanent or current.attempts >= self._retry.max_attempts:
                    current.status = OutboxStatus.FAILED
                    log.warning("outbox message %s failed for good: %s", current.id, error)
                else:
                    wait = error.retry_after if error.retry_after is not None else self._retry.delay(current.attempts)
                    current.next_attempt_at = self._clock() + timedelta(seconds=wait)
            session.add(current)
        return error is None


def outbox_row(message: OutboundMessage, dedup_key: str | None = None, now: datetime | None = None) -> OutboxMessage:
    """An unsaved outbox row for `message`, for callers that store it in their own transaction."""
    return OutboxMessage(
        dedup_key=dedup_key,
        platform=message.platform,
        platform_user_id=message.platform_user_id,
        chat_id=message.chat_id,
        text=message.text,
        language=message.language,
        kind=message.kind,
        choices=[{"id": c.id, "label": c.label} for c in message.choices] or None,
        next_attempt_at=now or utcnow(),
    )


def _outbound(row: OutboxMessage) -> OutboundMessage:
    return OutboundMessage(
        platform=row.platform,
        platform_user_id=row.platform_user_id,
        chat_id=row.chat_id,
        text=row.text,
        language=row.language,
        choices=[Choice(c["id"], c["label"]) for c in row.choices or []],
        kind=row.kind,
    )
