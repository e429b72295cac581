"""Whether anyone can take a handoff now, so the bot never opens one that nobody sees.

A desk is live when it is staffed by configuration (Slack: its channel is watched) or when an agent of it
was seen recently (the web console reports every signed-in request). Either way only inside business hours.
With a `PresenceStore` presence is shared by every server process through the database: each process writes an
agent's visit at most every `WRITE_EVERY` and reads the others' at most every `READ_EVERY` (the hot path asks on
every handoff decision; presence is counted in minutes, so seconds of staleness change nothing a customer sees).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.handoff.hours import BusinessHours
from storage.models import utcnow
from storage.presence import PresenceStore

WRITE_EVERY = timedelta(seconds=30)
READ_EVERY = timedelta(seconds=5)


class DeskPhrases(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdraw: list[str] = Field(default_factory=list)


class DeskSettings(BaseModel):
    """The business file's [desk] section."""

    model_config = ConfigDict(extra="forbid")

    presence_minutes: float = Field(default=10.0, gt=0)
    en: DeskPhrases = Field(default_factory=DeskPhrases)
    zh: DeskPhrases = Field(default_factory=DeskPhrases)

    def withdraw_phrases(self) -> list[str]:
        return [*self.en.withdraw, *self.zh.withdraw]


class Availability:
    def __init__(
        self,
        hours: BusinessHours | None = None,
        presence: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = utcnow,
        store: PresenceStore | None = None,
    ) -> None:
        self.hours = hours or BusinessHours(())
        self.presence = presence
        self.clock = clock
        self._store = store
        self._staffed: set[str] = set()
        self._seen: dict[str, datetime] = {}
        self._written: dict[str, datetime] = {}
        self._shared: dict[str, datetime] = {}  # the other processes' agents, as last read
        self._read_at: datetime | None = None
        self._lock = threading.Lock()

    @classmethod
    def staffed_by(
        cls, desk: str, hours: BusinessHours | None = None, clock: Callable[[], datetime] = utcnow
    ) -> Availability:
        availability = cls(hours, clock=clock)
        availability.staffed(desk)
        return availability

    def staffed(self, desk: str) -> None:
        """A desk that is watched whenever the business is open (Slack)."""
        self._staffed.add(desk)

    def unstaffed(self, desk: str) -> None:
        self._staffed.discard(desk)

    def agent_seen(self, agent: str) -> None:
        """An agent used a desk just now (every signed-in console request calls this).

        Blocking with a store (a database write at most every WRITE_EVERY per agent): call it off the event loop."""
        now = self.clock()
        with self._lock:
            self._seen[agent] = now
            written = self._written.get(agent)
            due = self._store is not None and (written is None or now - written >= WRITE_EVERY)
            if due:
                self._written[agent] = now
        if due:
            self._store.record(agent, now)

    def agents_present(self) -> list[str]:
        """Agents seen within `presence`, by this process or (with a store) any other.

        Blocking with a store (a database read at most every READ_EVERY): call it off the event loop."""
        now = self.clock()
        since = now - self.presence
        if self._store is not None and (self._read_at is None or now - self._read_at >= READ_EVERY):
            shared = self._store.seen_since(since)
            with self._lock:
                self._shared, self._read_at = shared, now
        with self._lock:
            seen = {**self._shared}
            for agent, at in self._seen.items():
                seen[agent] = max(at, seen.get(agent, at))
        return sorted(agent for agent, at in seen.items() if at >= since)

    def is_open(self) -> bool:
        return self.hours.is_open(self.clock())

    def can_take_handoff(self) -> bool:
        return self.is_open() and (bool(self._staffed) or bool(self.agents_present()))
