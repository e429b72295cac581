"""People are told: at-risk conversations, emotion alerts, churn warnings and new tasks reach the customer's
account manager (or the care team) in the staff inbox at once and in Slack through a durable notify job.

The emotion rules (`bot/emotion_watch.py`) decide; `WatchWithAlerts` wraps the engine's watch so every new
alert or at-risk conversation is passed on here, with no change to the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.care.staff_texts import staff_message, staff_say
from bot.emotion_watch import EmotionWatch, WatchOutcome
from storage.care import CareRepository
from storage.jobs import ClaimedJob, JobRepository
from storage.models import utcnow

log = logging.getLogger("warmdesk.care")

NOTIFY = "notify.staff"


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a notifier put a notice: the job's outcome, and the address that lets it be deleted later."""

    outcome: str
    desk: str | None = None
    channel: str | None = None
    message_id: str | None = None


class StaffNotifier(Protocol):
    """Where staff notices go besides the inbox (Slack). `recipient` is a staff id like "slack:U123" or a name;
    `channel` names a purpose ("care", "sla") the notifier maps to a place."""

    async def notify(self, recipient: str | None, text: str, channel: str = "care") -> Posted: ...


class Alerts:
    def __init__(
        self,
        care: CareRepository,
        jobs: JobRepository,
        fallback: str,
        language: str = "en",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.care = care
        self.jobs = jobs
        self.fallback = fallback
        self.language = language
        self.clock = clock
        self.notifier: StaffNotifier | None = None

    def handlers(self) -> dict[str, Callable[[ClaimedJob], Awaitable[str]]]:
        return {NOTIFY: self.deliver}

    def tell(self, customer_id: int | None, kind: str, key: str, text_key: str, **values: object) -> bool:
        """Inbox item plus Slack notice for the customer's account manager; once per `key`."""
        customer = self.care.customer(customer_id) if customer_id else None
        recipient = (customer.account_manager if customer else None) or self.fallback
        name = (customer.display_name if customer else None) or "-"
        values = {"customer": customer_id, "name": name, **values}
        text = staff_say(text_key, self.language, **values)
        message = staff_message(text_key, **values)
        if not self.care.add_inbox(recipient, kind, text, customer_id=customer_id, dedup_key=key, message=message):
            return False
        self.notify(recipient, text, key, customer_id=customer_id)
        return True

    def notify(self, recipient: str | None, text: str, key: str, channel: str = "care", customer_id=None) -> None:
        self.jobs.schedule(
            NOTIFY,
            self.clock(),
            {"recipient": recipient, "text": text, "channel": channel},
            customer_id=customer_id,
            dedup_key=f"notify:{key}",
            max_attempts=8,
        )

    async def deliver(self, job: ClaimedJob) -> str:
        if self.notifier is None:
            return "inbox only (no Slack configured)"
        payload = job.payload
        posted = await self.notifier.notify(payload.get("recipient"), payload["text"], payload.get("channel", "care"))
        if job.customer_id and posted.desk and posted.channel and posted.message_id:
            # kept so that deleting the customer's data deletes the notice on the desk too (storage/privacy.py)
            self.care.add_notice_copy(job.customer_id, posted.desk, posted.channel, posted.message_id)
        return posted.outcome

    # -- what the rules found ---------------------------------------------------------------------------------

    def after_watch(self, customer_id: int, conversation_id: int, outcome: WatchOutcome) -> None:
        if outcome.became_at_risk:
            self.tell(customer_id, "at_risk", f"at-risk:{conversation_id}", "at_risk", conversation=conversation_id)
        if outcome.alert is not None:
            self.tell(customer_id, "alert", f"alert:{outcome.alert.id}", "alert", reason=outcome.alert.reason)

    def churn_risk(self, customer_ids: list[int], days: float) -> None:
        today = f"{self.clock():%Y-%m-%d}"
        for customer_id in customer_ids:
            customer = self.care.customer(customer_id)
            if customer is not None and customer.account_manager:  # the unmanaged ones are in `run.py segments`
                self.tell(customer_id, "churn", f"churn:{customer_id}:{today}", "churn", days=int(days))

    def task_created(self, task_id: int) -> None:
        task = self.care.task(task_id)
        if task is None:
            return
        due = f"{task.due_at:%Y-%m-%d %H:%M} UTC"
        recipient = task.assignee or self.fallback
        values = {"task": task.id, "due": due, "title": task.title, "task_kind": task.kind}
        values["customer"] = task.customer_id
        text = staff_say("task", self.language, **values)
        message = staff_message("task", **values)
        if self.care.add_inbox(
            recipient, "task", text, customer_id=task.customer_id, dedup_key=f"task:{task.id}", message=message
        ):
            self.notify(recipient, text, f"task:{task.id}", customer_id=task.customer_id)


class WatchWithAlerts:
    """The engine's emotion watch, unchanged, plus telling people what it found."""

    def __init__(self, watch: EmotionWatch, alerts: Alerts) -> None:
        self._watch = watch
        self._alerts = alerts

    def after_exchange(self, customer_id: int, conversation_id: int, label: str | None) -> WatchOutcome:
        outcome = self._watch.after_exchange(customer_id, conversation_id, label)
        if outcome.became_at_risk or outcome.alert is not None:
            try:
                self._alerts.after_watch(customer_id, conversation_id, outcome)
            except Exception:  # telling staff must never cost the customer their answer
                log.exception("could not pass on the emotion alert for customer %s", customer_id)
        return outcome
