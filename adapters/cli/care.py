"""`run.py jobs ...` and `run.py tasks ...`: staff see and steer scheduled work and their follow-up tasks."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from bot.runtime import open_database
from bot.settings import Settings
from storage.care import CareRepository
from storage.customers import CustomerRepository
from storage.db import row_id
from storage.jobs import JobRepository
from storage.models import JobStatus, utcnow
from storage.sla import SlaRepository

USER_MISTAKE = 2


def register(commands: argparse._SubParsersAction) -> None:
    jobs = commands.add_parser("jobs", help="scheduled follow-ups and notifications: list, cancel").add_subparsers(
        dest="jobs_command", required=True
    )
    p = jobs.add_parser("list", help="pending, running and failed jobs, soonest first")
    p.add_argument(
        "--status",
        choices=[JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.DONE, JobStatus.CANCELLED],
    )
    p.add_argument("--kind", help="only this kind, e.g. followup.checkin")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=list_jobs)
    p = jobs.add_parser("cancel", help="cancel a job that has not run yet")
    p.add_argument("job_id", type=_id)
    p.add_argument("--by", default="cli", help="who cancels it (recorded in the audit log)")
    p.set_defaults(handler=cancel_job)

    p = commands.add_parser("sla", help="first-response figures of handoffs: answered, breached, median")
    p.add_argument("--days", type=int, default=30, choices=range(1, 367), metavar="DAYS", help="default 30")
    p.set_defaults(handler=sla_figures)

    tasks = commands.add_parser("tasks", help="staff follow-up tasks: list, done, snooze, assign").add_subparsers(
        dest="tasks_command", required=True
    )
    p = tasks.add_parser("list", help="open tasks, soonest due first")
    p.add_argument("--assignee", help="only this person's tasks")
    p.add_argument("--all", action="store_true", help="include done tasks")
    p.set_defaults(handler=list_tasks)
    p = tasks.add_parser("done", help="mark a task done")
    p.add_argument("task_id", type=_id)
    p.add_argument("--by", default="cli")
    p.set_defaults(handler=task_done)
    p = tasks.add_parser("snooze", help="move a task's due time later")
    p.add_argument("task_id", type=_id)
    p.add_argument("duration", type=_duration, help="how long: 30m, 4h, 2d")
    p.add_argument("--by", default="cli")
    p.set_defaults(handler=task_snooze)
    p = tasks.add_parser("assign", help="give a task to someone else")
    p.add_argument("task_id", type=_id)
    p.add_argument("assignee")
    p.add_argument("--by", default="cli")
    p.set_defaults(handler=task_assign)


def _id(given: str) -> int:
    value = row_id(given.lstrip("#"))
    if value is None:
        raise argparse.ArgumentTypeError(f"not an id: {given!r}")
    return value


def _duration(given: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    number, unit = given[:-1], given[-1:].lower()
    if unit not in units or not number.isascii() or not number.isdigit() or not 0 < int(number) <= 10_000:
        raise argparse.ArgumentTypeError(f"not a duration: {given!r} (write 30m, 4h or 2d)")
    return timedelta(**{units[unit]: int(number)})


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def list_jobs(settings: Settings, args: argparse.Namespace) -> int:
    jobs = JobRepository(open_database(settings))
    rows = jobs.listing(status=args.status, kind=args.kind, limit=args.limit)
    for job in rows:
        customer = f"customer #{job.customer_id}" if job.customer_id else "-"
        detail = job.last_error or job.outcome or ""
        print(f"#{job.id}\t{job.status}\t{_when(job.due_at)}\t{job.kind}\t{customer}\ttries {job.attempts}\t{detail}")
    counts = jobs.counts()
    print(
        ", ".join(
            f"{status} {counts.get(status, 0)}"
            for status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.DONE)
        )
    )
    return 0


def cancel_job(settings: Settings, args: argparse.Namespace) -> int:
    db = open_database(settings)
    jobs = JobRepository(db)
    job = jobs.get(args.job_id)
    if job is None:
        print(f"error: no job #{args.job_id}", file=sys.stderr)
        return USER_MISTAKE
    if not jobs.cancel(args.job_id):
        print(
            f"error: job #{args.job_id} is {job.status}; only pending or running jobs can be cancelled", file=sys.stderr
        )
        return USER_MISTAKE
    CustomerRepository(db).audit(f"staff:{args.by}", "job.cancel", f"job:{job.id}", {"kind": job.kind})
    print(f"job #{job.id} ({job.kind}) cancelled")
    return 0


def list_tasks(settings: Settings, args: argparse.Namespace) -> int:
    now = utcnow()
    for task in CareRepository(open_database(settings)).tasks(args.assignee, include_done=args.all):
        late = " (overdue)" if task.status == "open" and task.due_at < now else ""
        customer = f"customer #{task.customer_id}" if task.customer_id else "-"
        print(
            f"#{task.id}\t{task.status}\tdue {_when(task.due_at)}{late}\t{task.assignee or '-'}\t{customer}\t"
            f"{task.title}"
        )
    return 0


def _task_change(settings: Settings, args: argparse.Namespace, action: str, change) -> int:
    db = open_database(settings)
    care = CareRepository(db)
    task = care.task(args.task_id)
    if task is None:
        print(f"error: no task #{args.task_id}", file=sys.stderr)
        return USER_MISTAKE
    if not change(care, task):
        print(f"error: task #{task.id} is already {task.status}", file=sys.stderr)
        return USER_MISTAKE
    CustomerRepository(db).audit(f"staff:{args.by}", f"task.{action}", f"task:{task.id}")
    print(f"task #{task.id} {action}: {task.title}")
    return 0


def task_done(settings: Settings, args: argparse.Namespace) -> int:
    return _task_change(settings, args, "done", lambda care, task: care.complete_task(task.id, f"staff:{args.by}"))


def task_snooze(settings: Settings, args: argparse.Namespace) -> int:
    return _task_change(
        settings,
        args,
        "snoozed",
        lambda care, task: care.snooze_task(task.id, max(task.due_at, utcnow()) + args.duration),
    )


def task_assign(settings: Settings, args: argparse.Namespace) -> int:
    return _task_change(settings, args, "assigned", lambda care, task: care.assign_task(task.id, args.assignee))


def sla_figures(settings: Settings, args: argparse.Namespace) -> int:
    figures = SlaRepository(open_database(settings)).figures(utcnow() - timedelta(days=args.days))
    median = figures.median_first_response_seconds
    shown = "-" if median is None else f"{median / 60:.1f} min"
    print(
        f"last {args.days} days: {figures.handoffs} handoffs, {figures.answered} answered, "
        f"{figures.breached} breached; median first response {shown} (business time)"
    )
    return 0
