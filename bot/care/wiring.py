"""Settings and the business file → relationship care, ready to run: jobs, follow-ups, opt-out, the care desk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.business import BusinessFile
from bot.care.alerts import Alerts
from bot.care.desk import CareDesk
from bot.care.followups import FollowUps
from bot.care.notes import CareNotes
from bot.care.optout import OptOut
from bot.care.rules import FollowupRules, QuietHours, load_followup_rules
from bot.care.scheduler import Scheduler, SchedulerSettings
from bot.care.segments import NIGHTLY, Segments, load_segment_rules
from bot.care.sla import SLA_CHECK, Sla
from bot.handoff.wiring import handoff_settings
from bot.outbox import Outbox
from bot.settings import Settings
from bot.texts import Texts
from storage.care import CareRepository
from storage.customers import CustomerRepository
from storage.db import Database
from storage.handoffs import HandoffRepository
from storage.jobs import JobRepository
from storage.models import utcnow
from storage.segments import SegmentRepository
from storage.sla import SlaRepository


@dataclass
class Care:
    rules: FollowupRules
    jobs: JobRepository
    repository: CareRepository
    followups: FollowUps
    scheduler: Scheduler
    desk: CareDesk
    optout: OptOut
    segments: Segments
    alerts: Alerts
    sla: Sla
    notes: CareNotes


def scheduler_settings(settings: Settings) -> SchedulerSettings:
    return SchedulerSettings(
        batch=settings.jobs_batch,
        lease_seconds=settings.jobs_lease_seconds,
        idle_seconds=settings.jobs_idle_seconds,
    )


def check_care_rules(settings: Settings, business: BusinessFile) -> None:
    """Read the [followups] section at once, so a mistake in it stops the start before the slow parts."""
    rules = load_followup_rules(business)
    QuietHours(rules.quiet_hours, rules.timezone or settings.handoff_timezone)
    load_segment_rules(business)


def open_care(
    settings: Settings,
    business: BusinessFile,
    db: Database,
    outbox: Outbox,
    texts: Texts,
    clock: Callable[[], datetime] = utcnow,
) -> Care:
    rules = load_followup_rules(business)
    jobs, repository = JobRepository(db), CareRepository(db)
    quiet = QuietHours(rules.quiet_hours, rules.timezone or settings.handoff_timezone)
    followups = FollowUps(rules, jobs, repository, HandoffRepository(db), outbox, texts, quiet, clock=clock)
    scheduler = Scheduler(jobs, followups.handlers(), scheduler_settings(settings), clock=clock)
    language = settings.handoff_agent_language
    alerts = Alerts(repository, jobs, rules.fallback_assignee, language, clock)
    followups.on_task = alerts.task_created
    segments = open_segments(business, db, quiet.zone, jobs, clock)
    segments.on_churn_risk = lambda ids: alerts.churn_risk(ids, segments.rules.churn_after_days)
    segments.ensure_scheduled()
    handoffs = HandoffRepository(db)
    hours = handoff_settings(settings).hours
    sla = Sla(SlaRepository(db), handoffs, jobs, alerts, hours, settings.sla_first_response_minutes, clock)
    for kind, handler in {**alerts.handlers(), NIGHTLY: segments.nightly, SLA_CHECK: sla.check}.items():
        scheduler.register(kind, handler)
    desk = CareDesk(followups)
    desk.on_started.append(sla.started)
    desk.on_first_answer.append(sla.answered)
    desk.on_resolved.append(sla.answered)
    notes = CareNotes(repository, handoffs, CustomerRepository(db), language)
    optout = OptOut(repository, rules, texts)
    return Care(rules, jobs, repository, followups, scheduler, desk, optout, segments, alerts, sla, notes)


def open_segments(
    business: BusinessFile, db: Database, zone, jobs: JobRepository | None = None, clock=utcnow
) -> Segments:
    return Segments(SegmentRepository(db), load_segment_rules(business), jobs, zone, clock)
