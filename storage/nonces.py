"""Signed webhook requests already accepted, in the database so that every server process refuses a replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import WebhookNonce, utcnow

MAX_KEY_CHARS = 300
SWEEP_EVERY = 200  # first_time calls between deletions of keys older than the window


class NonceStore:
    def __init__(self, db: Database, window_seconds: float = 300.0, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._window = timedelta(seconds=window_seconds)
        self._clock = clock
        self._calls = 0

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen (and remembers it for the window), False for a replay.

        Blocking (a database write): call it from a worker thread when on the event loop."""
        now = self._clock()
        self._calls += 1
        if self._calls % SWEEP_EVERY == 1:
            with self._db.session() as session:
                session.execute(delete(WebhookNonce).where(WebhookNonce.seen_at < now - 2 * self._window))
        try:
            with self._db.session() as session:
                session.add(WebhookNonce(key=key[:MAX_KEY_CHARS], seen_at=now))
        except IntegrityError:
            return False
        return True
