"""A time limit on answering, so that a locked or hung database gives the caller an honest error, not a freeze."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class ServiceBusy(RuntimeError):
    """The answer did not come within the deadline (usually: the database is locked or not answering)."""


async def within(seconds: float | None, work: Awaitable[T]) -> T:
    """`work`'s result, or ServiceBusy after `seconds`. The work itself is not cancelled: it keeps its place in
    the customer's queue and finishes (logging the message, queueing the reply) when the database answers again,
    so a retry of the same message is recognised as a duplicate rather than answered twice."""
    task = asyncio.ensure_future(work)
    if seconds is None:
        return await task
    try:
        return await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError as error:
        task.add_done_callback(_consume)
        raise ServiceBusy(f"no answer within {seconds:g} s") from error


def _consume(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log "exception was never retrieved" for it
