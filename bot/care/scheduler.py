"""The scheduler: runs due jobs from `storage.jobs` through one handler per kind, with retries and backoff.

A handler is an async function of the claimed job. It returns a short outcome ("sent", "task") or raises
`Postpone` (run again later, not an error: quiet hours, a window not open yet) or any other exception (retried
with backoff up to the job's `max_attempts`, then kept as failed with its error for staff to see).
Handlers must be idempotent per job id (they key their effects on it, e.g. the outbox's dedup key): a worker
that dies after the effect but before `finish` leaves the job to be run again after its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.jobs import ClaimedJob, JobRepository
from storage.models import utcnow

log = logging.getLogger("warmdesk.care")

Handler = Callable[[ClaimedJob], Awaitable[str | None]]


class Postpone(Exception):
    """Run this job again at `until`; its attempt does not count."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    batch: int = 50
    lease_seconds: float = 300.0  # longer than any handler runs; a dead worker's jobs wait this long
    first_retry_seconds: float = 30.0
    max_retry_seconds: float = 3600.0
    idle_seconds: float = 5.0

    def backoff(self, attempts: int) -> float:
        return min(self.max_retry_seconds, self.first_retry_seconds * 2 ** max(0, attempts - 1))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    def __init__(
        self,
        jobs: JobRepository,
        handlers: dict[str, Handler] | None = None,
        settings: SchedulerSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker: str | None = None,
    ) -> None:
        self.jobs = jobs
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.settings = settings or SchedulerSettings()
        self.clock = clock
        self.worker = worker or worker_name()

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    async def run_due(self) -> int:
        """Claim one batch of due jobs and run them; returns how many were claimed."""
        now = self.clock()
        lease = timedelta(seconds=self.settings.lease_seconds)
        claimed = await asyncio.to_thread(self.jobs.claim_due, now, self.settings.batch, lease, self.worker)
        for job in claimed:
            await self._run(job)
        return len(claimed)

    async def run_all_due(self, max_batches: int = 100) -> int:
        """Batches until nothing is due (tests, `run.py jobs run`)."""
        total = 0
        for _ in range(max_batches):
            done = await self.run_due()
            total += done
            if done < self.settings.batch:
                break
        return total

    async def _run(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            outcome = await handler(job)
        except Postpone as wait:
            await asyncio.to_thread(self.jobs.postpone, job, wait.until, wait.reason)
            return
        except Exception as error:
            reason = f"{error.__class__.__name__}: {error}"
            if job.attempts >= job.max_attempts or isinstance(error, LookupError):
                log.warning("job %s (%s) failed for good after %d attempts: %s", job.id, job.kind, job.attempts, reason)
                await asyncio.to_thread(self.jobs.fail, job, self.clock(), reason)
            else:
                at = self.clock() + timedelta(seconds=self.settings.backoff(job.attempts))
                log.info("job %s (%s) failed (attempt %d), retrying at %s", job.id, job.kind, job.attempts, at)
                await asyncio.to_thread(self.jobs.retry, job, at, reason)
            return
        if not await asyncio.to_thread(self.jobs.finish, job, self.clock(), outcome or "done"):
            log.warning("job %s finished after its lease had passed to another worker or it was cancelled", job.id)

    async def run(self, stop: asyncio.Event) -> None:
        """Run due jobs until `stop` is set; a full batch is followed at once by the next."""
        while not stop.is_set():
            claimed = 0
            try:
                claimed = await self.run_due()
            except Exception:
                log.exception("scheduler pass failed; trying again")
            if claimed >= self.settings.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.idle_seconds)
