"""A desk that remembers what it was told, and a clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handoff.desk import QuietDesk, Ticket


class RecordingDesk(QuietDesk):
    name = "recording"

    def __init__(self) -> None:
        self.events: list[tuple] = []

    async def handoff_started(self, ticket: Ticket) -> None:
        self.events.append(("started", ticket.handoff_id))

    async def agent_claimed(self, ticket: Ticket, agent: str, via: str) -> None:
        self.events.append(("claimed", ticket.handoff_id, agent))

    async def agent_message(self, ticket: Ticket, agent: str, text: str, via: str) -> None:
        self.events.append(("agent", ticket.handoff_id, text))

    async def customer_message(self, ticket: Ticket, text: str) -> None:
        self.events.append(("customer", ticket.handoff_id, text))

    async def resolved(self, ticket: Ticket, agent: str | None, outcome: str) -> None:
        self.events.append(("resolved", ticket.handoff_id, outcome))

    async def still_waiting(self, ticket: Ticket, minutes: int) -> None:
        self.events.append(("waiting", ticket.handoff_id, minutes))

    async def help_requested(self, ticket: Ticket, agent: str) -> None:
        self.events.append(("help", ticket.handoff_id, agent))

    async def rated(self, ticket: Ticket, rating: int) -> None:
        self.events.append(("rated", ticket.handoff_id, rating))


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 5, 6, 3, 0, tzinfo=UTC)  # a Monday, 11:00 in Shanghai

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)
