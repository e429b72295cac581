"""One customer's messages one at a time across server processes sharing PostgreSQL (advisory locks)."""

from __future__ import annotations

import asyncio

import pytest

from bot.keyed_lock import SharedKeyedLock
from storage.db import Database


def waiting_for_advisory_locks(db: Database) -> int:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).scalar_one()


@pytest.fixture
def two_processes(postgres_database_url):
    first, second = Database(postgres_database_url), Database(postgres_database_url)
    yield first, second
    first.dispose()
    second.dispose()


async def test_the_second_process_waits_for_the_first_to_finish_that_customer(two_processes):
    first, second = two_processes
    entered = asyncio.Event()

    async def second_process_message() -> None:
        async with SharedKeyedLock(second).hold(("telegram", "42")):
            entered.set()

    async with SharedKeyedLock(first).hold(("telegram", "42")):
        waiting = asyncio.create_task(second_process_message())
        for _ in range(500):
            if await asyncio.to_thread(waiting_for_advisory_locks, first):
                break
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(waiting_for_advisory_locks, first) == 1 and not entered.is_set()
        async with SharedKeyedLock(second).hold(("telegram", "other customer")):
            pass  # another customer is not held up
    await asyncio.wait_for(waiting, 10)
    assert entered.is_set()
