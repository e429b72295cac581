"""Whether anyone can take a handoff now, so the bot never opens one that nobody sees.

A desk is live when it is staffed by configuration (Slack: its channel is watched) or when an agent of it
was seen recently (the web console reports every signed-in request). Either way only inside business hours.
Presence is kept in this process's memory: several workers each learn it from the requests they serve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.handoff.hours import BusinessHours
from storage.models import utcnow


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
    ) -> None:
        self.hours = hours or BusinessHours(())
        self.presence = presence
        self.clock = clock
        self._staffed: set[str] = set()
        self._seen: dict[str, datetime] = {}
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
        """An agent used a desk just now (every signed-in console request calls this)."""
        with self._lock:
            self._seen[agent] = self.clock()

    def agents_present(self) -> list[str]:
        since = self.clock() - self.presence
        with self._lock:
            return sorted(agent for agent, seen in self._seen.items() if seen >= since)

    def is_open(self) -> bool:
        return self.hours.is_open(self.clock())

    def can_take_handoff(self) -> bool:
        return self.is_open() and (bool(self._staffed) or bool(self.agents_present()))
