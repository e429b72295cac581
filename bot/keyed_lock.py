"""One asyncio lock per key, dropped when nobody holds or waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from storage.db import Database, off_loop


class KeyedLock:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class SharedKeyedLock(KeyedLock):
    """A KeyedLock that also holds a PostgreSQL advisory lock per key, so that one customer's messages are
    handled one at a time across every server process sharing the database (as Rasa's lock store does)."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        async with super().hold(key):
            shared = await off_loop(self._db.advisory_lock, f"warmdesk:{key!r}")
            try:
                yield
            finally:
                await off_loop(shared.release)
