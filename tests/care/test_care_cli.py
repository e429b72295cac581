"""`run.py jobs ...` and `run.py tasks ...` as staff use them, in-process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

import run
from bot.runtime import open_database
from bot.settings import Settings
from storage.care import CareRepository
from storage.jobs import JobRepository
from storage.models import AuditLog, Customer, JobStatus, utcnow
from storage.sla import SlaRepository


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path / "data"))
    database = open_database(Settings())
    yield database
    database.dispose()


def test_staff_see_pending_jobs_and_cancel_one(db, capsys):
    jobs = JobRepository(db)
    soon, _ = jobs.schedule("followup.csat", utcnow() + timedelta(hours=1))
    later, _ = jobs.schedule("followup.checkin", utcnow() + timedelta(days=14))

    assert run.main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert out.index(f"#{soon}\t") < out.index(f"#{later}\t") and "pending 2" in out

    assert run.main(["jobs", "cancel", str(later), "--by", "ann"]) == 0
    assert jobs.get(later).status == JobStatus.CANCELLED
    with db.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "job.cancel")).one()
    assert (audit.actor, audit.target) == ("staff:ann", f"job:{later}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["jobs", "cancel", "999"], "no job #999"),
        (["jobs", "cancel", "abc"], "not an id"),
        (["tasks", "done", "999"], "no task #999"),
        (["tasks", "snooze", "1", "soon"], "not a duration"),
    ],
)
def test_a_mistyped_id_or_duration_is_one_line_and_status_2(db, capsys, argv, message):
    try:
        status = run.main(argv)
    except SystemExit as exited:  # argparse refuses a malformed value itself
        status = exited.code
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "\n".join(err)


def test_cancelling_a_finished_job_is_refused(db, capsys):
    jobs = JobRepository(db)
    job_id, _ = jobs.schedule("followup.csat", utcnow())
    jobs.cancel(job_id)
    assert run.main(["jobs", "cancel", str(job_id)]) == 2
    assert "only pending or running" in capsys.readouterr().err


def test_a_task_can_be_snoozed_reassigned_and_completed(db, capsys):
    care = CareRepository(db)
    task, _ = care.add_task("followup.checkin", "Check in with the customer", utcnow(), assignee="ann")

    assert run.main(["tasks", "list", "--assignee", "ann"]) == 0
    assert f"#{task.id}" in capsys.readouterr().out
    assert run.main(["tasks", "snooze", str(task.id), "2d"]) == 0
    assert care.task(task.id).due_at > utcnow() + timedelta(days=1, hours=23)
    assert run.main(["tasks", "assign", str(task.id), "bob"]) == 0
    capsys.readouterr()
    assert run.main(["tasks", "list", "--assignee", "ann"]) == 0
    assert f"#{task.id}" not in capsys.readouterr().out
    assert run.main(["tasks", "done", str(task.id), "--by", "bob"]) == 0
    done = care.task(task.id)
    assert (done.status, done.assignee, done.done_by) == ("done", "bob", "staff:bob")
    assert run.main(["tasks", "done", str(task.id)]) == 2


def test_sla_figures_are_printed_for_the_last_days(db, capsys):
    with db.session() as session:
        customer = Customer(display_name="x")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    sla = SlaRepository(db)
    now = utcnow()
    sla.start(1, customer_id, now - timedelta(hours=1), now)
    sla.answered(1, now, 240.0)
    sla.start(2, customer_id, now - timedelta(hours=1), now)
    sla.breach(2, now)
    assert run.main(["sla", "--days", "7"]) == 0
    assert "2 handoffs, 1 answered, 1 breached; median first response 4.0 min" in capsys.readouterr().out
