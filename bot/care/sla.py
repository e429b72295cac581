"""The first-response SLA of handoffs: a target in business minutes (`bot/handoff/hours.py`), a check job at the
deadline, and an escalation to the SLA Slack channel when no person answered in time.

A first response is an agent's first message to the customer, or the handoff being resolved by a person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.care.alerts import Alerts
from bot.care.staff_texts import staff_say
from bot.handoff.desk import Ticket
from bot.handoff.hours import BusinessHours
from storage.handoffs import HandoffRepository, HandoffStatus
from storage.jobs import ClaimedJob, JobRepository
from storage.models import utcnow
from storage.sla import SlaRepository

SLA_CHECK = "sla.check"
MAX_SEARCH = timedelta(days=14)  # a business closed longer than this: the deadline is simply two weeks later


def add_business_minutes(start: datetime, minutes: float, hours: BusinessHours) -> datetime:
    if hours.always_open:
        return start + timedelta(minutes=minutes)
    moment, left, step = start, minutes, timedelta(minutes=1)
    while left > 0 and moment - start < MAX_SEARCH:
        if hours.is_open(moment):
            left -= 1
        moment += step
    return moment


def business_seconds(start: datetime, end: datetime, hours: BusinessHours) -> float:
    if hours.always_open or end <= start:
        return max(0.0, (end - start).total_seconds())
    total, moment, step = 0.0, start, timedelta(minutes=1)
    while moment < end and moment - start < MAX_SEARCH:
        chunk = min(step, end - moment)
        if hours.is_open(moment):
            total += chunk.total_seconds()
        moment += chunk
    return total


class Sla:
    def __init__(
        self,
        repository: SlaRepository,
        handoffs: HandoffRepository,
        jobs: JobRepository,
        alerts: Alerts,
        hours: BusinessHours,
        target_minutes: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = repository
        self.handoffs = handoffs
        self.jobs = jobs
        self.alerts = alerts
        self.hours = hours
        self.target_minutes = target_minutes
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.target_minutes > 0

    async def started(self, ticket: Ticket) -> None:
        if not self.enabled:
            return
        await asyncio.to_thread(self._start, ticket)

    def _start(self, ticket: Ticket) -> None:
        handoff = self.handoffs.get(ticket.handoff_id)
        requested = handoff.requested_at if handoff else self.clock()
        due = add_business_minutes(requested, self.target_minutes, self.hours)
        if self.repository.start(ticket.handoff_id, ticket.customer_id, requested, due):
            self.jobs.schedule(
                SLA_CHECK,
                due,
                {"handoff_id": ticket.handoff_id},
                customer_id=ticket.customer_id,
                dedup_key=f"sla:{ticket.handoff_id}",
            )

    async def answered(self, ticket: Ticket, agent: str | None = None) -> None:
        if not self.enabled:
            return
        await asyncio.to_thread(self._answered, ticket.handoff_id)

    def _answered(self, handoff_id: int) -> None:
        row = self.repository.get(handoff_id)
        if row is None or row.first_response_at is not None:
            return
        now = self.clock()
        self.repository.answered(handoff_id, now, business_seconds(row.requested_at, now, self.hours))

    async def check(self, job: ClaimedJob) -> str:
        handoff_id = job.payload["handoff_id"]
        row = self.repository.get(handoff_id)
        handoff = self.handoffs.get(handoff_id)
        if row is None or handoff is None:
            return "skipped: customer gone"
        if row.first_response_at is not None or handoff.status == HandoffStatus.RESOLVED:
            return "met"
        now = self.clock()
        if not self.repository.breach(handoff_id, now):
            return "already escalated"
        minutes = int(business_seconds(row.requested_at, now, self.hours) // 60)
        text = staff_say(
            "sla_breach",
            self.alerts.language,
            handoff=handoff_id,
            customer=handoff.customer_id,
            reason=handoff.reason,
            minutes=minutes,
            target=int(self.target_minutes),
        )
        self.alerts.notify(None, text, f"sla:{handoff_id}", channel="sla", customer_id=handoff.customer_id)
        return "breached"
