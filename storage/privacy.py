"""A customer's choices about their own data, one-time requests (delete confirmations, export links), deletion
receipts and the staff accesses to a record: the storage side of bot/privacy."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.customers import audit_lines_about, erase_customer
from storage.db import Database
from storage.models import (
    AuditLog,
    CareTask,
    Conversation,
    CustomerPrivacy,
    DeletionReceipt,
    DeskThread,
    EmotionAlert,
    Handoff,
    Identity,
    InboxItem,
    JobStatus,
    Message,
    Note,
    OutboxMessage,
    PrivacyRequest,
    ScheduledJob,
    StaffNoticeCopy,
    utcnow,
)

DELETE_CONFIRMATION = "delete_confirmation"
EXPORT_LINK = "export_link"
CUSTOMER_ACTOR = "customer"  # audit lines the customer caused themselves (not "who looked at my data")
# What relationship care (bot/care) derives from emotion labels: staff notices about an at-risk conversation or an
# emotion alert, and the check-in follow-up planned because a conversation started negative (its job, its task
# when the channel would not carry it, and that task's notice). Cleared with "don't analyse my emotions".
EMOTION_NOTICE_KINDS = ("alert", "at_risk")
EMOTION_NOTICE_JOBS = ("notify:alert:", "notify:at-risk:")
EMOTION_FOLLOWUP = "followup.checkin"
NOTIFY_JOB = "notify.staff"


@dataclass
class DeskCopies:
    """What Warmdesk posted about one customer on staff desks outside the database."""

    threads: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # handoff cards: (channel, thread id)
    messages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # single notices: (channel, message id)
    unaddressed: int = 0  # notices posted with no stored address: they stay, and the receipt counts them


class Confirmation:
    PENDING = "pending"
    EXPIRED = "expired"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class StoredSummary:
    identities: list[tuple[str, str]]
    conversations: int
    messages: int
    notes: int
    emotion_counts: dict[str, int]
    privacy: CustomerPrivacy | None


def new_deletion_id() -> str:
    return f"D-{secrets.token_hex(5).upper()}"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class PrivacyStore:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- preferences and consent ----------------------------------------------------------------------------

    def preferences(self, customer_id: int) -> CustomerPrivacy | None:
        with self._db.session() as session:
            return session.get(CustomerPrivacy, customer_id)

    def analyses_emotions(self, customer_id: int) -> bool:
        with self._db.session() as session:
            allowed = session.exec(
                select(CustomerPrivacy.emotion_analysis).where(CustomerPrivacy.customer_id == customer_id)
            ).first()
        return allowed is not False

    def stop_emotion_analysis(self, customer_id: int) -> bool:
        """From now on no label, profile or alert; the labels, alerts and at-risk flags stored so far are cleared.
        False when the customer had already asked."""
        with self._db.session() as session:
            row = _privacy_row(session, customer_id)
            changed = row.emotion_analysis
            row.emotion_analysis, row.updated_at = False, self._clock()
            session.add(row)
            session.exec(
                update(Message)
                .where(Message.customer_id == customer_id)
                .values(emotion_label=None, emotion_intensity=None, emotion_signals=None)
            )
            session.exec(delete(EmotionAlert).where(EmotionAlert.customer_id == customer_id))
            session.exec(update(Conversation).where(Conversation.customer_id == customer_id).values(at_risk=False))
            _drop_emotion_care(session, customer_id)
            session.add(
                AuditLog(actor=CUSTOMER_ACTOR, action="customer.emotions_off", target=f"customer:{customer_id}")
            )
        self._db.compact()
        return changed

    def set_legal_hold(self, customer_id: int, on: bool, actor: str) -> None:
        with self._db.session() as session:
            row = _privacy_row(session, customer_id)
            row.legal_hold, row.updated_at = on, self._clock()
            session.add(row)
            action = "customer.hold_on" if on else "customer.hold_off"
            session.add(AuditLog(actor=actor, action=action, target=f"customer:{customer_id}"))

    def on_legal_hold(self, customer_id: int) -> bool:
        with self._db.session() as session:
            held = session.exec(
                select(CustomerPrivacy.legal_hold).where(CustomerPrivacy.customer_id == customer_id)
            ).first()
        return bool(held)

    def held_customers(self) -> list[int]:
        with self._db.session() as session:
            return list(session.exec(select(CustomerPrivacy.customer_id).where(CustomerPrivacy.legal_hold)).all())

    def record_notice(self, customer_id: int, version: str) -> None:
        """The privacy notice this customer was shown, once per version."""
        with self._db.session() as session:
            row = _privacy_row(session, customer_id)
            if row.notice_version == version:
                return
            row.notice_version, row.notice_seen_at = version, self._clock()
            session.add(row)

    def set_consent(self, customer_id: int, consent: str, notice_version: str | None = None) -> None:
        with self._db.session() as session:
            row = _privacy_row(session, customer_id)
            now = self._clock()
            row.consent, row.consent_at, row.updated_at = consent, now, now
            if notice_version and row.notice_version != notice_version:
                row.notice_version, row.notice_seen_at = notice_version, now
            session.add(row)
            session.add(
                AuditLog(actor=CUSTOMER_ACTOR, action=f"customer.consent_{consent}", target=f"customer:{customer_id}")
            )

    # -- delete confirmations and export links -----------------------------------------------------------------

    def ask_to_delete(self, customer_id: int, ttl: timedelta) -> None:
        with self._db.session() as session:
            session.exec(_drop_requests(customer_id, DELETE_CONFIRMATION))
            session.add(
                PrivacyRequest(customer_id=customer_id, kind=DELETE_CONFIRMATION, expires_at=self._clock() + ttl)
            )

    def take_confirmation(self, customer_id: int) -> str:
        """Use up this customer's pending delete confirmation: PENDING (go ahead), EXPIRED or NONE."""
        with self._db.session() as session:
            rows = _requests(session, customer_id, DELETE_CONFIRMATION)
            if not rows:
                return Confirmation.NONE
            live = any(_aware(row.expires_at) > self._clock() for row in rows)
            if session.exec(_drop_requests(customer_id, DELETE_CONFIRMATION)).rowcount == 0:
                return Confirmation.NONE  # another delivery of the same answer took it first
        return Confirmation.PENDING if live else Confirmation.EXPIRED

    def cancel_confirmation(self, customer_id: int) -> bool:
        with self._db.session() as session:
            return session.exec(_drop_requests(customer_id, DELETE_CONFIRMATION)).rowcount > 0

    def issue_export_link(self, customer_id: int, ttl: timedelta) -> str:
        """A fresh one-time token; only its hash is stored. Earlier unused links of the customer stop working."""
        token = secrets.token_urlsafe(24)
        with self._db.session() as session:
            session.exec(_drop_requests(customer_id, EXPORT_LINK))
            session.add(
                PrivacyRequest(
                    customer_id=customer_id, kind=EXPORT_LINK, token_hash=digest(token), expires_at=self._clock() + ttl
                )
            )
        return token

    def redeem_export_link(self, token: str) -> int | None:
        """The customer a live link belongs to, using it up; None for an unknown, used or expired link."""
        with self._db.session() as session:
            row = session.exec(
                select(PrivacyRequest).where(
                    PrivacyRequest.kind == EXPORT_LINK, PrivacyRequest.token_hash == digest(token)
                )
            ).first()
            if row is None:
                return None
            # Deleting by id and checking the count makes the link single-use even when two requests race.
            if session.exec(delete(PrivacyRequest).where(PrivacyRequest.id == row.id)).rowcount != 1:
                return None
            return row.customer_id if _aware(row.expires_at) > self._clock() else None

    def drop_expired_requests(self) -> int:
        with self._db.session() as session:
            return session.exec(delete(PrivacyRequest).where(PrivacyRequest.expires_at <= self._clock())).rowcount

    # -- deletion -----------------------------------------------------------------------------------------------

    def receipt_for(self, message_key: str) -> DeletionReceipt | None:
        with self._db.session() as session:
            return session.exec(
                select(DeletionReceipt).where(DeletionReceipt.message_key == digest(message_key))
            ).first()

    def erase(
        self,
        customer_id: int,
        reason: str,
        message_key: str | None,
        receipt_id: str,
        at: datetime,
        deliveries: list[OutboxMessage] = (),
    ) -> bool:
        """Everything about the customer goes, in one transaction with the receipt (which holds nothing about
        them) and `deliveries` (the receipt message, stored without a customer); False when a retry of the same
        confirming message got there first."""
        try:
            with self._db.session() as session:
                erase_customer(session, customer_id, CUSTOMER_ACTOR)
                key = digest(message_key) if message_key else None
                session.add(DeletionReceipt(id=receipt_id, reason=reason, message_key=key, deleted_at=at))
                for row in deliveries:
                    session.add(row)
        except IntegrityError:
            return False
        self._db.compact()
        return True

    def desk_copies(self, customer_id: int) -> DeskCopies:
        """Where staff desks show this customer's handoffs and the staff notices about them, and how many notices
        went to Slack without a stored address (relationship care's notify jobs from before addresses were kept)."""
        with self._db.session() as session:
            rows = session.exec(
                select(DeskThread.desk, DeskThread.channel, DeskThread.thread_id)
                .join(Handoff, Handoff.id == DeskThread.handoff_id)
                .where(Handoff.customer_id == customer_id, DeskThread.created_at >= Handoff.requested_at)
                .order_by(DeskThread.id)
            ).all()
            notices = session.exec(
                select(func.count())
                .select_from(ScheduledJob)
                .where(
                    ScheduledJob.customer_id == customer_id,
                    ScheduledJob.kind == NOTIFY_JOB,
                    ScheduledJob.status == JobStatus.DONE,
                    ScheduledJob.outcome.startswith("slack:"),
                )
            ).one()
            posted = session.exec(
                select(StaffNoticeCopy.desk, StaffNoticeCopy.channel, StaffNoticeCopy.message_id)
                .where(StaffNoticeCopy.customer_id == customer_id)
                .order_by(StaffNoticeCopy.id)
            ).all()
        copies = DeskCopies()
        for desk, channel, thread_id in rows:
            copies.threads.setdefault(desk, []).append((channel, thread_id))
        for desk, channel, message_id in posted:
            copies.messages.setdefault(desk, []).append((channel, message_id))
        copies.unaddressed = max(0, int(notices) - len(posted))
        return copies

    def queue_unattached(self, row: OutboxMessage) -> None:
        """A message to someone who has no stored record (the strict consent question); the same key once."""
        try:
            with self._db.session() as session:
                session.add(row)
        except IntegrityError:
            pass

    def customer_for(self, platform: str, platform_user_id: str) -> int | None:
        with self._db.session() as session:
            return session.exec(
                select(Identity.customer_id).where(
                    Identity.platform == platform, Identity.platform_user_id == platform_user_id
                )
            ).first()

    # -- what is stored, who looked --------------------------------------------------------------------------

    def summary(self, customer_id: int) -> StoredSummary:
        with self._db.session() as session:
            identities = session.exec(
                select(Identity.platform, Identity.platform_user_id)
                .where(Identity.customer_id == customer_id)
                .order_by(Identity.id)
            ).all()
            counts = dict(
                session.exec(
                    select(Message.emotion_label, func.count())
                    .where(Message.customer_id == customer_id, Message.direction == "in")
                    .where(Message.emotion_label.is_not(None))
                    .group_by(Message.emotion_label)
                ).all()
            )
            return StoredSummary(
                identities=[tuple(row) for row in identities],
                conversations=_count(session, Conversation, customer_id),
                messages=_count(session, Message, customer_id),
                notes=_count(session, Note, customer_id),
                emotion_counts=counts,
                privacy=session.get(CustomerPrivacy, customer_id),
            )

    def staff_accesses(self, customer_id: int) -> list[AuditLog]:
        """Audit lines about this customer written by staff (not by the customer's own requests)."""
        with self._db.session() as session:
            return [row for row in audit_lines_about(session, customer_id) if row.actor != CUSTOMER_ACTOR]


def _drop_emotion_care(session: Session, customer_id: int) -> None:
    """The care notices, check-in jobs and check-in tasks an emotion label led to, for one customer."""
    tasks = session.exec(
        select(CareTask.id).where(
            CareTask.customer_id == customer_id, CareTask.kind == EMOTION_FOLLOWUP, CareTask.status == "open"
        )
    ).all()
    task_keys = [f"task:{task}" for task in tasks]
    session.exec(
        delete(InboxItem).where(
            InboxItem.customer_id == customer_id,
            InboxItem.kind.in_(EMOTION_NOTICE_KINDS) | InboxItem.dedup_key.in_(task_keys),
        )
    )
    notices = [ScheduledJob.dedup_key.startswith(prefix) for prefix in EMOTION_NOTICE_JOBS]
    notices.append(ScheduledJob.dedup_key.in_([f"notify:{key}" for key in task_keys]))
    planned = ScheduledJob.status.in_((JobStatus.PENDING, JobStatus.RUNNING))
    notice_jobs = (ScheduledJob.customer_id == customer_id) & (ScheduledJob.kind == NOTIFY_JOB) & or_(*notices)
    # A notice already sent stays as a row without its text: a later deletion counts it among what is in Slack.
    session.exec(update(ScheduledJob).where(notice_jobs, ScheduledJob.status == JobStatus.DONE).values(payload={}))
    check_ins = (ScheduledJob.customer_id == customer_id) & (ScheduledJob.kind == EMOTION_FOLLOWUP) & planned
    session.exec(delete(ScheduledJob).where((notice_jobs & (ScheduledJob.status != JobStatus.DONE)) | check_ins))
    if tasks:
        session.exec(delete(CareTask).where(CareTask.id.in_(tasks)))


def _privacy_row(session: Session, customer_id: int) -> CustomerPrivacy:
    return session.get(CustomerPrivacy, customer_id) or CustomerPrivacy(customer_id=customer_id)


def _requests(session: Session, customer_id: int, kind: str) -> list[PrivacyRequest]:
    query = select(PrivacyRequest).where(PrivacyRequest.customer_id == customer_id, PrivacyRequest.kind == kind)
    return list(session.exec(query).all())


def _drop_requests(customer_id: int, kind: str):
    return delete(PrivacyRequest).where(PrivacyRequest.customer_id == customer_id, PrivacyRequest.kind == kind)


def _count(session: Session, model, customer_id: int) -> int:
    return session.exec(select(func.count()).select_from(model).where(model.customer_id == customer_id)).one()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
