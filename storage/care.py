"""What relationship care reads and writes besides jobs: opt-outs, channel facts, staff tasks and the staff inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import (
    CareNote,
    CareTask,
    Conversation,
    Customer,
    InboxItem,
    Message,
    OutboxMessage,
    OutboxStatus,
    StaffNoticeCopy,
    utcnow,
)

OPT_OUT_DECISION = "opt_out"
OPT_IN_DECISION = "opt_in"


class TaskStatus:
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class WindowFacts:
    """A customer's last message on one channel and how many of our messages were sent since."""

    last_inbound_at: datetime | None
    sent_since: int


class CareRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- opting out of proactive messages -------------------------------------------------------------------

    def set_opted_out(self, customer_id: int, opted_out: bool, now: datetime | None = None) -> bool:
        """Whether it changed."""
        with self._db.session() as session:
            condition = Customer.opted_out_at.is_(None) if opted_out else Customer.opted_out_at.is_not(None)
            return bool(
                session.exec(
                    update(Customer)
                    .where(Customer.id == customer_id, condition)
                    .values(opted_out_at=(now or utcnow()) if opted_out else None)
                ).rowcount
            )

    def opted_out(self, customer_id: int) -> bool:
        """The stored flag, or, for a customer whose very first message was "stop" (no customer row yet when it
        was read), their latest stop / resume message as logged."""
        with self._db.session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return True
            if customer.opted_out_at is not None:
                return True
            latest = session.exec(
                select(Message.decision)
                .where(
                    Message.customer_id == customer_id,
                    Message.direction == "in",
                    Message.decision.in_((OPT_OUT_DECISION, OPT_IN_DECISION)),
                )
                .order_by(Message.id.desc())
            ).first()
        return latest == OPT_OUT_DECISION

    def customer(self, customer_id: int) -> Customer | None:
        with self._db.session() as session:
            return session.get(Customer, customer_id)

    def set_account_manager(self, customer_id: int, manager: str | None) -> bool:
        with self._db.session() as session:
            return bool(
                session.exec(
                    update(Customer).where(Customer.id == customer_id).values(account_manager=manager or None)
                ).rowcount
            )

    # -- channel facts ---------------------------------------------------------------------------------------

    def window(self, customer_id: int, platform: str, platform_user_id: str) -> WindowFacts:
        with self._db.session() as session:
            last_in = session.exec(
                select(func.max(Message.created_at)).where(
                    Message.customer_id == customer_id, Message.platform == platform, Message.direction == "in"
                )
            ).one()
            if last_in is None:
                return WindowFacts(None, 0)
            sent = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.platform == platform,
                    OutboxMessage.platform_user_id == platform_user_id,
                    OutboxMessage.created_at > last_in,
                    OutboxMessage.status != OutboxStatus.FAILED,
                )
            ).one()
        return WindowFacts(last_in, sent)

    def started_negative(self, conversation_id: int, first_messages: int, negative: frozenset[str]) -> bool:
        """Whether one of the conversation's first `first_messages` customer messages was negative."""
        with self._db.session() as session:
            labels = session.exec(
                select(Message.emotion_label)
                .where(Message.conversation_id == conversation_id, Message.direction == "in")
                .order_by(Message.id)
                .limit(first_messages)
            ).all()
            conversation = session.get(Conversation, conversation_id)
        return any(label in negative for label in labels) or bool(conversation and conversation.at_risk)

    def outbox_row(self, dedup_key: str) -> OutboxMessage | None:
        with self._db.session() as session:
            return session.exec(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key)).first()

    # -- staff tasks -----------------------------------------------------------------------------------------

    def add_task(
        self,
        kind: str,
        title: str,
        due_at: datetime,
        *,
        customer_id: int | None = None,
        detail: str | None = None,
        assignee: str | None = None,
        dedup_key: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> tuple[CareTask, bool]:
        """A new open task; the same `dedup_key` twice stores it once. Returns (task, created). `message` (a text
        key and its values) lets each staff page show the detail in its own language."""
        task = CareTask(
            kind=kind,
            title=title,
            due_at=due_at,
            customer_id=customer_id,
            detail=detail,
            assignee=assignee,
            dedup_key=dedup_key,
            message=message,
        )
        try:
            with self._db.session() as session:
                session.add(task)
                session.flush()
                return task, True
        except IntegrityError:
            if dedup_key is None:
                raise
            with self._db.session() as session:
                return session.exec(select(CareTask).where(CareTask.dedup_key == dedup_key)).one(), False

    def task(self, task_id: int) -> CareTask | None:
        with self._db.session() as session:
            return session.get(CareTask, task_id)

    def tasks(
        self, assignee: str | None = None, include_done: bool = False, due_before: datetime | None = None
    ) -> list[CareTask]:
        query = select(CareTask)
        if assignee:
            query = query.where(CareTask.assignee == assignee)
        if not include_done:
            query = query.where(CareTask.status == TaskStatus.OPEN)
        if due_before is not None:
            query = query.where(CareTask.due_at <= due_before)
        with self._db.session() as session:
            return list(session.exec(query.order_by(CareTask.due_at, CareTask.id).limit(500)).all())

    def complete_task(self, task_id: int, by: str, now: datetime | None = None) -> bool:
        return self._task_update(task_id, status=TaskStatus.DONE, done_at=now or utcnow(), done_by=by)

    def snooze_task(self, task_id: int, until: datetime) -> bool:
        return self._task_update(task_id, due_at=until)

    def assign_task(self, task_id: int, assignee: str) -> bool:
        return self._task_update(task_id, assignee=assignee)

    def _task_update(self, task_id: int, **values: object) -> bool:
        with self._db.session() as session:
            return bool(
                session.exec(
                    update(CareTask).where(CareTask.id == task_id, CareTask.status == TaskStatus.OPEN).values(**values)
                ).rowcount
            )

    def add_notice_copy(self, customer_id: int, desk: str, channel: str, message_id: str) -> None:
        """A staff notice about this customer was posted on `desk` (Slack) at (channel, message id)."""
        with self._db.session() as session:
            if session.get(Customer, customer_id) is not None:  # deleted meanwhile: the deletion took its copies
                session.add(StaffNoticeCopy(customer_id=customer_id, desk=desk, channel=channel, message_id=message_id))

    # -- staff inbox -----------------------------------------------------------------------------------------

    def add_inbox(
        self,
        recipient: str,
        kind: str,
        text: str,
        customer_id: int | None = None,
        dedup_key: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> bool:
        """Whether it was new (the same `dedup_key` is stored once)."""
        item = InboxItem(
            recipient=recipient, kind=kind, text=text, customer_id=customer_id, dedup_key=dedup_key, message=message
        )
        try:
            with self._db.session() as session:
                session.add(item)
            return True
        except IntegrityError:
            return False

    def inbox(
        self, recipient: str | None = None, unread_only: bool = False, limit: int = 100, kind: str | None = None
    ) -> list[InboxItem]:
        query = select(InboxItem)
        if recipient:
            query = query.where(InboxItem.recipient == recipient)
        if kind:
            query = query.where(InboxItem.kind == kind)
        if unread_only:
            query = query.where(InboxItem.read_at.is_(None))
        with self._db.session() as session:
            return list(session.exec(query.order_by(InboxItem.id.desc()).limit(limit)).all())

    def inbox_item(self, item_id: int) -> InboxItem | None:
        with self._db.session() as session:
            return session.get(InboxItem, item_id)

    def inbox_recipients(self) -> list[tuple[str, int, int]]:
        """Everyone with notices: (recipient, unread, all), most unread first (the staff inbox's filter)."""
        unread = func.count(InboxItem.id).filter(InboxItem.read_at.is_(None))
        with self._db.session() as session:
            rows = session.exec(
                select(InboxItem.recipient, unread, func.count(InboxItem.id))
                .group_by(InboxItem.recipient)
                .order_by(unread.desc(), InboxItem.recipient)
                .limit(200)
            ).all()
        return [(recipient, new, total) for recipient, new, total in rows]

    def mark_read(self, item_id: int, recipient: str, now: datetime | None = None) -> bool:
        with self._db.session() as session:
            return bool(
                session.exec(
                    update(InboxItem)
                    .where(InboxItem.id == item_id, InboxItem.recipient == recipient, InboxItem.read_at.is_(None))
                    .values(read_at=now or utcnow())
                ).rowcount
            )

    # -- care notes ------------------------------------------------------------------------------------------

    def add_care_note(self, customer_id: int, handoff_id: int | None, author: str, text: str) -> CareNote:
        with self._db.session() as session:
            note = CareNote(customer_id=customer_id, handoff_id=handoff_id, author=author, text=text)
            session.add(note)
            session.flush()
            return note

    def latest_care_note(self, customer_id: int) -> CareNote | None:
        with self._db.session() as session:
            return session.exec(
                select(CareNote).where(CareNote.customer_id == customer_id).order_by(CareNote.id.desc())
            ).first()
