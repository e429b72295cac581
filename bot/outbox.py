"""One outbox delivers everything to customers: stored first, sent with retries and backoff, never silently lost.

Bot answers sent asynchronously, agent replies and rating requests all go through `Outbox.enqueue`; a
platform adapter provides a `Sender`. Pending rows survive a restart and are delivered by the next run.

Delivery is at-least-once: a process that dies (or loses its database) after the platform accepted a message but
before the row was marked delivered sends it again once its claim lease expires; one crash, at most one copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import select
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from bot.messages import Choice, OutboundMessage
from bot.outbox_policy import DeliveryError, RetryPolicy, Sender
from storage.db import Database, off_loop
from storage.models import OutboxMessage, OutboxStatus, utcnow
from storage.outbox_queue import Chat, claim_head, claim_row, due_chats, mark_delivered, release

__all__ = ["DeliveryError", "Outbox", "RetryPolicy", "Sender", "chat_of", "outbox_row"]  # senders import these here

log = logging.getLogger("warmdesk.outbox")


class Outbox:
    """Delivers in parallel across chats and strictly in order within one chat.

    A chat's queue is its pending rows in id order; only its head is ever sent, so a later reply never overtakes
    an earlier one that is waiting out a backoff, a rate limit or another process's claim. Each chat is drained
    by one task at a time; at most `concurrency` chats per platform are in flight.
    """

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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: dict[Chat, asyncio.Task] = {}
        self._again: set[Chat] = set()  # chats given a message while their drain was running: drained once more
        self._handed: dict[Chat, tuple[Row, bool]] = {}  # a head taken by the transaction that stored it, and `last`
        self._stopping = False
        self._background: set[asyncio.Future] = set()
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._paused_until: dict[str, datetime] = {}  # a platform's rate limit (retry_after) pauses all its chats

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
        """Store a message for delivery; the same `dedup_key` twice stores it once. Returns the row id.

        Blocking (a database write): call it from a worker thread when on the event loop."""
        now = self._clock()
        row = outbox_row(message, dedup_key, now=now)
        row.customer_id, row.conversation_id = customer_id, conversation_id
        row.give_up_at = now + self._retry.window(message.platform)
        try:
            with self._db.session() as session:
                session.add(row)
                session.flush()
                row_id = row.id
        except IntegrityError:
            with self._db.session() as session:
                row_id = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)).one()
        self.wake(chat_of(message))
        return row_id

    def wake(self, chat: Chat | None = None) -> None:
        """Deliver now rather than at the next idle tick; safe to call from any thread. With `chat` (a message was
        queued for it) only that chat is looked at, without a pass over the whole queue."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._wake.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._woken(chat)
        else:
            loop.call_soon_threadsafe(self._woken, chat)

    def head_taker(self, chat: Chat) -> Callable[[Connection], Row | None] | None:
        """For a caller that stores a message for `chat` in its own transaction: a function that takes the chat's
        head for its first attempt in that same transaction (saving this outbox a claim of its own); hand what it
        returns to `send_taken`. None while this outbox is not running its delivery loop."""
        now = self._clock()
        if self._loop is None or self._stopping or self._paused(chat[0], now):
            return None
        lease = self._lease(now)
        return lambda connection: claim_head(connection, chat, now, lease)

    def send_taken(self, chat: Chat, row: Row, *, last: bool = False) -> None:
        """Send a row taken by `head_taker`'s function (after its transaction committed); any thread. `last`: the
        caller stored only this row and it was the chat's head, so nothing waits behind it (unless queued since,
        which wakes the chat): after it no next head is looked for."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._taken, chat, row, last)

    def _taken(self, chat: Chat, row: Row, last: bool) -> None:
        if self._stopping:
            self._give_back(row)
        elif chat in self._draining:  # ending just now: the chat starts again with this row
            self._handed[chat] = (row, last)
        else:
            self._start(chat, self._clock(), row, last)

    def _give_back(self, row: Row) -> None:
        """A taken row this process will not send (stopping, or its platform paused): due again at once, not only
        when its lease expires."""
        task = asyncio.ensure_future(off_loop(self._release, row.id, self._clock()))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _release(self, row_id: int, now: datetime) -> None:
        with self._db.session() as session:
            release(session.connection(), row_id, now)

    def _woken(self, chat: Chat | None) -> None:
        if chat is None or self._stopping:
            self._wake.set()
        elif chat in self._draining:
            self._again.add(chat)  # its drain may have looked just before this message was stored
        else:
            self._start(chat, self._clock())

    async def deliver_due(self, limit: int = 100) -> int:
        """Send every message whose time has come (chat by chat, each chat in order); returns how many went out."""
        tasks = await self._start_due(limit)
        return sum(await asyncio.gather(*tasks)) if tasks else 0

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set; a queued message starts its chat at once, and every `idle_seconds` (or on a
        plain `wake()`) a pass over the queue picks up retries that came due and other processes' rows."""
        self._loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()  # before the pass: a message queued during it wakes the next one at once
            try:
                await self._start_due()
            except Exception:
                log.exception("outbox pass failed; retrying")
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        self._stopping = True
        if self._draining:
            await asyncio.gather(*self._draining.values(), return_exceptions=True)
        for row, _last in self._handed.values():
            self._give_back(row)
        self._handed.clear()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _start_due(self, limit: int = 100) -> list[asyncio.Task]:
        now = self._clock()
        chats = await off_loop(self._due_chats, now, limit)
        return [task for chat in chats if (task := self._start(chat, now)) is not None]

    def _start(self, chat: Chat, now: datetime, taken: Row | None = None, last: bool = False) -> asyncio.Task | None:
        if chat in self._draining or self._paused(chat[0], now):
            if taken is not None:
                self._give_back(taken)
            return None
        task = asyncio.create_task(self._drain(chat, taken, last))
        self._draining[chat] = task
        task.add_done_callback(lambda done, chat=chat: self._drained(chat, done))
        return task

    def _drained(self, chat: Chat, done: asyncio.Task) -> None:
        if self._draining.get(chat) is done:
            del self._draining[chat]
        if not done.cancelled() and done.exception() is not None:
            log.error("delivering to a %s chat failed: %r", chat[0], done.exception())
        handed = self._handed.pop(chat, None)
        if handed is not None:
            self._taken(chat, *handed)
        elif chat in self._again:
            self._again.discard(chat)
            if not self._stopping:
                self._start(chat, self._clock())

    def _paused(self, platform: str, now: datetime) -> bool:
        until = self._paused_until.get(platform)
        return until is not None and now < until

    def _due_chats(self, now: datetime, limit: int) -> list[Chat]:
        with self._db.session() as session:
            return due_chats(session, now, limit)

    async def _drain(self, chat: Chat, taken: Row | None = None, last: bool = False) -> int:
        """Send one chat's due messages in order until it is empty or its head has to wait, starting with the
        head `taken` already if given. Each outcome is recorded in the transaction that takes the next head."""
        platform = chat[0]
        limit = self._limits.setdefault(platform, asyncio.Semaphore(self._retry.concurrency))
        delivered = 0
        async with limit:
            row = taken or await off_loop(self._claim_head, chat, self._clock())
            while row is not None:
                take_next = not last or chat in self._again
                if take_next:
                    self._again.discard(chat)  # the next head is looked for with this outcome
                outcome, row = await self._attempt(row, chat, take_next)
                delivered += outcome is True
                last = False
        return delivered

    def _claim_head(self, chat: Chat, now: datetime) -> Row | None:
        """The chat's oldest pending row, taken for one attempt, or None if it is not due (or someone has it).

        The claim is a lease: a process that dies mid-send leaves the row to be retried after it expires."""
        if self._paused(chat[0], now):
            return None
        with self._db.session() as session:
            return claim_head(session.connection(), chat, now, self._lease(now))

    def _claim(self, row_id: int, now: datetime) -> bool:
        """Take one row for one attempt (as `_claim_head` does for a chat's head)."""
        with self._db.session() as session:
            return claim_row(session.connection(), row_id, now, self._lease(now))

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._retry.claim_seconds)

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

    async def _attempt(self, row: Row, chat: Chat, take_next: bool = True) -> tuple[bool | None, Row | None]:
        """True: delivered; False: to be retried later; None: failed for good (the chat's next row may go). With
        it, the chat's next row, already taken for its attempt, when it may go now."""
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
        if error is not None and error.retry_after is not None:
            self._paused_until[row.platform] = self._clock() + timedelta(seconds=error.retry_after)
        return await self._record(row, chat, error, platform_message_id, take_next)

    async def _record(
        self, row: Row, chat: Chat, error: DeliveryError | None, platform_message_id: str | None, take_next: bool
    ):
        """Record the attempt, retrying while the database is unreachable: the platform has the message, and
        while our claim lasts no one else sends it, so a database blip between "sent" and "marked" (a restart, a
        dropped connection) costs a wait, not a duplicate. Past half the claim the row is left to its lease."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((DBAPIError, PoolTimeout)),
            stop=stop_after_delay(self._retry.claim_seconds / 2),
            wait=wait_exponential(multiplier=self._retry.mark_retry_delay, max=5.0),
            before_sleep=lambda _: log.warning(
                "outbox message %s: the database did not take the attempt's outcome; retrying", row.id
            ),
            reraise=True,
        )
        return await retrying(off_loop, self._record_and_take_next, row.id, chat, error, platform_message_id, take_next)

    def _record_and_take_next(
        self,
        row_id: int,
        chat: Chat,
        error: DeliveryError | None,
        platform_message_id: str | None,
        take_next: bool = True,
    ) -> tuple[bool | None, Row | None]:
        now = self._clock()
        with self._db.session() as session:
            if error is None:
                outcome = True if mark_delivered(session.connection(), row_id, now, platform_message_id) else None
            else:
                outcome = self._record_failure(session, row_id, error, now)
            if outcome is False or not take_next or self._paused(chat[0], now):
                return outcome, None
            return outcome, claim_head(session.connection(), chat, now, self._lease(now))

    def _record_failure(self, session, row_id: int, error: DeliveryError, now: datetime) -> bool | None:
        current = session.get(OutboxMessage, row_id)
        if current is None:  # the customer was forgotten meanwhile
            return None
        current.attempts += 1
        wait = error.retry_after if error.retry_after is not None else self._retry.delay(current.attempts)
        retry_at = now + timedelta(seconds=wait)
        give_up_at = current.give_up_at or current.created_at + self._retry.window(current.platform)
        out_of_attempts = self._retry.max_attempts is not None and current.attempts >= self._retry.max_attempts
        if error.permanent or out_of_attempts or retry_at > give_up_at:
            current.status = OutboxStatus.FAILED
            reason = "refused by the platform" if error.permanent else f"gave up after {current.attempts} attempts"
            current.last_error = f"{reason}: {error}"[:2000]
            log.warning("outbox message %s failed for good (%s)", current.id, reason)
        else:
            current.last_error = str(error)[:2000]
            current.next_attempt_at = retry_at
        session.add(current)
        return None if current.status == OutboxStatus.FAILED else False

    # -- staff: what failed, and sending it again ---------------------------------------------------------------

    def listing(self, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        with self._db.session() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
            if status is not None:
                query = query.where(OutboxMessage.status == status)
            return list(session.exec(query).all())

    def retry(self, row_ids: list[int] | None = None) -> list[int]:
        """Put failed messages back in the queue with a fresh retry window (all failed ones when `row_ids` is
        None); returns the ids re-queued."""
        now = self._clock()
        with self._db.session() as session:
            query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
            if row_ids is not None:
                query = query.where(OutboxMessage.id.in_(row_ids))
            rows = list(session.exec(query.order_by(OutboxMessage.id)).all())
            for row in rows:
                row.status = OutboxStatus.PENDING
                row.next_attempt_at = now
                row.give_up_at = now + self._retry.window(row.platform)
                row.attempts = 0
                session.add(row)
            requeued = [row.id for row in rows]
        self.wake()
        return requeued


def chat_of(message: OutboundMessage) -> Chat:
    """The queue a message waits in: its chat, or its user where the platform has no separate chat id."""
    return (message.platform, message.chat_id or message.platform_user_id)


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


def _outbound(row: OutboxMessage | Row) -> OutboundMessage:
    return OutboundMessage(
        platform=row.platform,
        platform_user_id=row.platform_user_id,
        chat_id=row.chat_id,
        text=row.text,
        language=row.language,
        choices=[Choice(c["id"], c["label"]) for c in row.choices or []],
        kind=row.kind,
    )
