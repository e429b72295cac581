from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.care.scheduler import Postpone, Scheduler, SchedulerSettings
from bot.messages import OutboundMessage
from bot.outbox import Outbox
from storage.jobs import JobRepository
from storage.models import JobStatus, OutboxMessage
from tests.care.helpers import Clock

ROOT = Path(__file__).resolve().parents[2]


def scheduler(database, clock, handlers, **settings) -> Scheduler:
    return Scheduler(JobRepository(database), handlers, SchedulerSettings(**settings), clock=clock, worker="test")


async def test_jobs_run_in_due_order_and_not_before_they_are_due(database):
    clock, ran = Clock(), []

    async def record(job):
        ran.append(job.payload["name"])
        return "recorded"

    jobs = JobRepository(database)
    jobs.schedule("record", clock.now + timedelta(hours=2), {"name": "later"})
    jobs.schedule("record", clock.now + timedelta(hours=1), {"name": "sooner"})
    worker = scheduler(database, clock, {"record": record})

    assert await worker.run_due() == 0
    clock.advance(hours=1)
    assert await worker.run_due() == 1
    clock.advance(hours=1)
    await worker.run_due()
    assert ran == ["sooner", "later"]
    assert await worker.run_due() == 0
    assert {job.status for job in jobs.listing(status=JobStatus.DONE)} == {JobStatus.DONE}
    assert jobs.listing() == []  # nothing active or failed is left


async def test_a_failing_job_is_retried_with_growing_delays_then_kept_as_failed(database):
    clock, attempts = Clock(), []

    async def flaky(job):
        attempts.append(clock.now)
        raise RuntimeError("Slack is down")

    jobs = JobRepository(database)
    job_id, _ = jobs.schedule("notify", clock.now, max_attempts=3)
    worker = scheduler(database, clock, {"notify": flaky}, first_retry_seconds=60)

    await worker.run_due()
    clock.advance(seconds=59)
    await worker.run_due()
    assert len(attempts) == 1  # not yet: the first retry waits 60 s
    clock.advance(seconds=1)
    await worker.run_due()
    clock.advance(seconds=120)
    await worker.run_due()
    clock.advance(days=1)
    await worker.run_due()

    assert [(t - attempts[0]).total_seconds() for t in attempts] == [0, 60, 180]
    job = jobs.get(job_id)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert job.last_error == "RuntimeError: Slack is down"
    assert [j.id for j in jobs.listing()] == [job_id]  # failed jobs stay visible to staff


async def test_a_postponed_job_waits_without_using_up_its_attempts(database):
    clock, runs = Clock(), []

    async def quiet_hours(job):
        runs.append(clock.now)
        if len(runs) == 1:
            raise Postpone(clock.now + timedelta(hours=8), "quiet hours")
        return "sent"

    jobs = JobRepository(database)
    job_id, _ = jobs.schedule("followup", clock.now, max_attempts=1)
    worker = scheduler(database, clock, {"followup": quiet_hours})
    await worker.run_due()
    assert jobs.get(job_id).status == JobStatus.PENDING
    clock.advance(hours=8)
    await worker.run_due()
    job = jobs.get(job_id)
    assert (job.status, job.outcome, job.attempts) == (JobStatus.DONE, "sent", 1)


async def test_a_cancelled_job_never_runs_and_the_same_key_is_scheduled_once(database):
    clock, ran = Clock(), []

    async def record(job):
        ran.append(job.id)

    jobs = JobRepository(database)
    first, created = jobs.schedule("record", clock.now, dedup_key="checkin:7")
    again, created_again = jobs.schedule("record", clock.now, dedup_key="checkin:7")
    assert (again, created, created_again) == (first, True, False)
    assert jobs.cancel(first)
    assert not jobs.cancel(first)
    await scheduler(database, clock, {"record": record}).run_due()
    assert ran == [] and jobs.get(first).status == JobStatus.CANCELLED


async def test_a_job_claimed_by_a_worker_that_died_is_done_once_after_its_lease(database):
    clock, effects = Clock(), []

    async def effect(job):
        effects.append(job.id)
        return "sent"

    jobs = JobRepository(database)
    job_id, _ = jobs.schedule("followup", clock.now)
    [dead] = jobs.claim_due(clock.now, 10, timedelta(seconds=300), "worker-that-dies")
    survivor = scheduler(database, clock, {"followup": effect}, lease_seconds=300)

    assert await survivor.run_due() == 0  # the lease still holds
    clock.advance(seconds=300)
    assert await survivor.run_due() == 1
    assert not jobs.finish(dead, clock.now)  # the dead worker's late finish is refused
    clock.advance(days=1)
    assert await survivor.run_due() == 0
    assert effects == [job_id] and jobs.get(job_id).status == JobStatus.DONE


def test_two_workers_claiming_at_once_never_take_the_same_job(database):
    clock = Clock()
    jobs = JobRepository(database)
    for n in range(40):
        jobs.schedule("record", clock.now - timedelta(seconds=n))
    barrier, taken = threading.Barrier(2), {}

    def claim(name: str) -> None:
        barrier.wait()
        taken[name] = [job.id for job in jobs.claim_due(clock.now, 25, timedelta(seconds=60), name)]

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(taken["a"]) & set(taken["b"])
    if database.url.startswith("postgresql"):  # SKIP LOCKED: the second worker takes the next rows at once
        assert len(taken["a"]) + len(taken["b"]) == 40
    else:  # SQLite is the single-worker path: a loser of the race gets nothing this pass, never a double
        left = jobs.claim_due(clock.now, 40, timedelta(seconds=60), "c")
        assert len(taken["a"]) + len(taken["b"]) + len(left) == 40


CRASHING_WORKER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from datetime import datetime
    sys.path.insert(0, {root!r})
    from bot.care.scheduler import Scheduler, SchedulerSettings
    from bot.messages import OutboundMessage
    from bot.outbox import Outbox
    from storage.db import Database
    from storage.jobs import JobRepository

    db = Database({url!r})
    outbox = Outbox(db)
    done = 0

    async def send(job):
        global done
        outbox.enqueue(OutboundMessage("telegram", "u1", f"check-in {{job.id}}", "en"), dedup_key=f"job-{{job.id}}")
        done += 1
        if done == 3:  # mid-batch, after the effect and before the job is marked done
            os.kill(os.getpid(), signal.SIGKILL)
        return "sent"

    now = datetime.fromisoformat({now!r})
    worker = Scheduler(JobRepository(db), {{"followup": send}}, SchedulerSettings(batch=10), clock=lambda: now)
    asyncio.run(worker.run_due())
    """
)


async def test_a_worker_killed_mid_batch_leaves_every_job_done_exactly_once_after_a_restart(database):
    clock = Clock()
    jobs = JobRepository(database)
    ids = [jobs.schedule("followup", clock.now, customer_id=None)[0] for _ in range(6)]
    script = CRASHING_WORKER.format(root=str(ROOT), url=database.url, now=clock.now.isoformat())
    crashed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]

    outbox = Outbox(database)

    async def send(job):
        outbox.enqueue(OutboundMessage("telegram", "u1", f"check-in {job.id}", "en"), dedup_key=f"job-{job.id}")
        return "sent"

    restarted = scheduler(database, clock, {"followup": send}, lease_seconds=300)
    assert await restarted.run_due() == 0  # the dead worker's claims hold until the lease ends
    clock.advance(seconds=301)
    assert await restarted.run_all_due() == 4  # two finished before the kill
    with database.session() as session:
        texts = sorted(row.text for row in session.exec(select(OutboxMessage)).all())
    assert texts == sorted(f"check-in {job_id}" for job_id in ids)
    assert {jobs.get(job_id).status for job_id in ids} == {JobStatus.DONE}


async def test_an_unknown_job_kind_fails_at_once_with_a_clear_error(database):
    clock = Clock()
    jobs = JobRepository(database)
    job_id, _ = jobs.schedule("nobody-handles-this", clock.now)
    await scheduler(database, clock, {}).run_due()
    job = jobs.get(job_id)
    assert job.status == JobStatus.FAILED and "no handler" in job.last_error
