"""WeChat-style callbacks: answer in the HTTP response if the work is done in time, otherwise deliver it later.

The platform waits ~5 s and then retries the same message (up to 3 times). Each message key runs its work once;
exactly one party claims the result: the first request still waiting when it finishes (a passive answer), or,
when no request is waiting any more, `deliver_later` (an outbox message). Single event loop, so a claim is atomic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger("warmdesk.passive")

Result = TypeVar("Result")


@dataclass(eq=False)
class _Job(Generic[Result]):
    started: float
    task: asyncio.Task | None = None
    waiters: int = 0
    claimed: bool = False
    finished_at: float | None = field(default=None)


class PassiveWindow(Generic[Result]):
    def __init__(self, budget_seconds: float = 4.0, remember_seconds: float = 120.0) -> None:
        self.budget = budget_seconds
        self._remember = remember_seconds
        self._jobs: dict[str, _Job[Result]] = {}
        self._finished: deque[tuple[float, str, _Job[Result]]] = deque()  # in finishing order, for forgetting

    async def answer(
        self,
        key: str,
        work: Callable[[], Awaitable[Result]],
        deliver_later: Callable[[Result], Awaitable[None]],
        arrived: float | None = None,
    ) -> Result | None:
        """The result to answer passively, or None if it is (or will be) delivered otherwise. The budget counts
        from `arrived` (time.monotonic() when the request came in), or from now."""
        arrived = time.monotonic() if arrived is None else arrived
        self._forget_old(arrived)
        job = self._jobs.get(key)
        if job is None:
            job = self._jobs[key] = _Job(started=arrived)
            job.task = asyncio.create_task(self._run(key, job, work, deliver_later))
        job.waiters += 1
        try:
            await asyncio.wait({job.task}, timeout=max(0.0, arrived + self.budget - time.monotonic()))
        finally:
            job.waiters -= 1
        if not job.task.done() or job.claimed:
            return None
        if job.task.exception() is not None:
            raise job.task.exception()
        job.claimed = True
        return job.task.result()

    async def _run(
        self,
        key: str,
        job: _Job[Result],
        work: Callable[[], Awaitable[Result]],
        deliver_later: Callable[[Result], Awaitable[None]],
    ) -> Result:
        try:
            result = await work()
        except BaseException:
            self._jobs.pop(key, None)  # a retry of this message runs the work again
            if job.waiters == 0:
                log.exception("work for %s failed after its callbacks had been answered", key)
            raise
        finally:
            job.finished_at = time.monotonic()
            self._finished.append((job.finished_at, key, job))
        if job.waiters == 0 and not job.claimed:
            job.claimed = True
            try:
                await deliver_later(result)
            except Exception:
                log.exception("could not hand %s over for later delivery", key)
        return result

    def running(self) -> int:
        """Messages whose work is still running. At 0 every result was answered passively or handed over to
        `deliver_later`, so nothing more can come of the messages seen so far."""
        return sum(1 for job in self._jobs.values() if job.task is not None and not job.task.done())

    def _forget_old(self, now: float) -> None:
        while self._finished and now - self._finished[0][0] > self._remember:
            _, key, job = self._finished.popleft()
            if self._jobs.get(key) is job:
                del self._jobs[key]
