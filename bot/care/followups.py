"""Follow-up rules: what is scheduled when a handoff is resolved, and how a due follow-up reaches the customer.

Scheduling happens on the `resolved` desk event (see `bot/care/desk.py`). Sending obeys, in order: the customer
has not opted out, the rule still applies (no rating yet for a CSAT reminder), not inside quiet hours (postponed
to their end), the channel allows it (WeChat: inside the 48-hour / 5-message window, otherwise a staff task).
A sent follow-up is logged and enqueued under the job's own key, so a job run twice after a crash sends once;
a later delivery check turns a failed delivery (WeChat 45015 / 45047, a blocked bot) into a staff task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.care.rules import FollowupRules, QuietHours
from bot.care.scheduler import Postpone
from bot.care.staff_texts import staff_message, staff_say, task_title
from bot.emotion.base import NEGATIVE_LABELS
from bot.messages import Choice, OutboundMessage
from bot.outbox import Outbox
from bot.texts import Texts
from storage.care import CareRepository
from storage.handoffs import HandoffRepository, HandoffStatus, Recipient
from storage.jobs import ClaimedJob, JobRepository
from storage.models import Handoff, OutboxStatus, utcnow

log = logging.getLogger("warmdesk.care")

CHECKIN = "followup.checkin"
COMPLAINT = "followup.complaint"
CSAT = "followup.csat"
DELIVERY_CHECK = "followup.delivery"
TEXT_KEYS = {CHECKIN: "followup_checkin", COMPLAINT: "followup_complaint", CSAT: "followup_csat"}
TASK_TITLES = {kind: task_title(kind, "en") for kind in (CHECKIN, COMPLAINT, CSAT)}  # stored; pages use the kind
COMPLAINT_REASON = "complaint"
WINDOW_PLATFORMS = frozenset({"wechat"})  # channels that only allow messages shortly after the customer's own
DELIVERY_CHECK_MINUTES = 10.0


@dataclass(frozen=True, slots=True)
class Scheduled:
    kind: str
    job_id: int
    due_at: datetime


class FollowUps:
    def __init__(
        self,
        rules: FollowupRules,
        jobs: JobRepository,
        care: CareRepository,
        handoffs: HandoffRepository,
        outbox: Outbox,
        texts: Texts,
        quiet: QuietHours,
        clock: Callable[[], datetime] = utcnow,
        on_task: Callable[[int], None] | None = None,
    ) -> None:
        self.rules = rules
        self.jobs = jobs
        self.care = care
        self.handoffs = handoffs
        self.outbox = outbox
        self.texts = texts
        self.quiet = quiet
        self.clock = clock
        self.on_task = on_task  # told the id of every staff task made here (the notifier hooks in)

    def handlers(self) -> dict[str, Callable]:
        return {CHECKIN: self.send, COMPLAINT: self.send, CSAT: self.send, DELIVERY_CHECK: self.check_delivery}

    # -- scheduling ------------------------------------------------------------------------------------------

    def on_resolved(self, handoff_id: int) -> list[Scheduled]:
        handoff = self.handoffs.get(handoff_id)
        if handoff is None or handoff.status != HandoffStatus.RESOLVED:
            return []
        resolved = handoff.resolved_at or self.clock()
        plans: list[tuple[str, datetime, dict]] = []
        rules = self.rules
        worked_on = handoff.claimed_at is not None  # a person helped (and a rating was asked for)
        if worked_on and handoff.outcome == "resolved":
            if rules.checkin.enabled and self.care.started_negative(
                handoff.conversation_id, rules.checkin.negative_first_messages, NEGATIVE_LABELS
            ):
                plans.append((CHECKIN, resolved + timedelta(days=rules.checkin.after_days), {}))
            if rules.complaint_contact.enabled and handoff.reason == COMPLAINT_REASON:
                deadline = resolved + timedelta(hours=rules.complaint_contact.within_hours)
                due = self._inside_window(handoff, resolved + timedelta(hours=rules.complaint_contact.after_hours))
                plans.append((COMPLAINT, min(due, deadline), {"deadline": deadline.isoformat()}))
        # The complaint contact asks whether the customer is happy: a rating reminder beside it would be a second
        # message about the same thing.
        if worked_on and rules.csat_reminder.enabled and not any(kind == COMPLAINT for kind, _, _ in plans):
            plans.append((CSAT, resolved + timedelta(hours=rules.csat_reminder.after_hours), {}))
        scheduled = []
        for kind, due, extra in plans:
            payload = {"handoff_id": handoff.id, "conversation_id": handoff.conversation_id, **extra}
            job_id, _ = self.jobs.schedule(
                kind, due, payload, customer_id=handoff.customer_id, dedup_key=f"{kind}:handoff-{handoff.id}"
            )
            scheduled.append(Scheduled(kind, job_id, due))
        return scheduled

    def _inside_window(self, handoff: Handoff, due: datetime) -> datetime:
        """On a windowed channel, a contact that may come early is moved to before the window closes."""
        recipient = self.handoffs.recipient(handoff.conversation_id)
        if recipient is None or recipient.platform not in WINDOW_PLATFORMS:
            return due
        facts = self.care.window(recipient.customer_id, recipient.platform, recipient.platform_user_id)
        if facts.last_inbound_at is None:
            return due
        usable_hours = self.rules.wechat_window_hours - self.rules.wechat_margin_hours
        latest = facts.last_inbound_at + timedelta(hours=usable_hours)
        return min(due, max(latest, self.clock()))

    # -- sending ---------------------------------------------------------------------------------------------

    async def send(self, job: ClaimedJob) -> str:
        now = self.clock()
        handoff = self.handoffs.get(job.payload.get("handoff_id", 0))
        recipient = self.handoffs.recipient(job.payload.get("conversation_id", 0))
        if handoff is None or recipient is None:
            return "skipped: customer gone"
        if self.care.opted_out(recipient.customer_id):
            return "skipped: opted out"
        if job.kind == CSAT and handoff.rating is not None:
            return "skipped: already rated"
        if (allowed := self.quiet.next_allowed(now)) != now:
            raise Postpone(allowed, "quiet hours")
        text = self.texts.say(TEXT_KEYS[job.kind], recipient.language)
        if recipient.platform in WINDOW_PLATFORMS and not self._window_open(recipient, now):
            self._task(job, recipient, text, "task_why.window_closed")
            return "task: window closed"
        key = f"job-{job.id}"
        choices = [Choice(f"rating:{handoff.id}:{n}", str(n)) for n in range(1, 6)] if job.kind == CSAT else []
        # Both steps are keyed on the job: run again after a crash, it logs and enqueues nothing twice.
        self.handoffs.log_agent_message(recipient, text, key, decision=job.kind)
        self.outbox.enqueue(
            OutboundMessage(
                recipient.platform,
                recipient.platform_user_id,
                text,
                recipient.language,
                chat_id=recipient.chat_id,
                choices=choices,
                kind="followup",
            ),
            customer_id=recipient.customer_id,
            conversation_id=recipient.conversation_id,
            dedup_key=key,
        )
        self.jobs.schedule(
            DELIVERY_CHECK,
            now + timedelta(minutes=DELIVERY_CHECK_MINUTES),
            {**job.payload, "delivery": key, "rule": job.kind},
            customer_id=recipient.customer_id,
            dedup_key=f"delivery:{key}",
        )
        return "sent"

    def _window_open(self, recipient: Recipient, now: datetime) -> bool:
        facts = self.care.window(recipient.customer_id, recipient.platform, recipient.platform_user_id)
        if facts.last_inbound_at is None:
            return False
        closes = facts.last_inbound_at + timedelta(hours=self.rules.wechat_window_hours)
        return now < closes and facts.sent_since < self.rules.wechat_window_messages

    async def check_delivery(self, job: ClaimedJob) -> str:
        row = self.care.outbox_row(job.payload["delivery"])
        if row is None:
            return "skipped: customer gone"
        if row.status == OutboxStatus.DELIVERED:
            return "delivered"
        if row.status == OutboxStatus.PENDING:
            raise Postpone(self.clock() + timedelta(minutes=DELIVERY_CHECK_MINUTES), "still being delivered")
        recipient = self.handoffs.recipient(job.payload.get("conversation_id", 0))
        if recipient is None:
            return "skipped: customer gone"
        why, error = "task_why.delivery_failed", row.last_error or ""
        self._task(job, recipient, row.text, why, rule=job.payload.get("rule"), error=error)
        return "task: delivery failed"

    def _task(
        self, job: ClaimedJob, recipient: Recipient, text: str, why: str, rule: str | None = None, error: str = ""
    ) -> None:
        """A person takes over what the channel would not carry; the message itself is kept in the task. `why` is
        a text key; the detail is stored in English and as key and values for the staff pages' languages."""
        customer = self.care.customer(recipient.customer_id)
        assignee = (customer.account_manager if customer else None) or self.rules.fallback_assignee
        kind = rule or job.kind
        values = {"why": why, "error": error, "text": text}
        task, created = self.care.add_task(
            kind=kind,
            title=task_title(kind, "en"),
            due_at=self.clock(),
            customer_id=recipient.customer_id,
            detail=staff_say("task_detail", "en", **values),
            assignee=assignee,
            dedup_key=f"task:job-{job.id}",
            message=staff_message("task_detail", **values),
        )
        if created and self.on_task is not None:
            self.on_task(task.id)
