"""The Desk protocol: what the core tells a place where agents work. Slack and the web console implement it;
another desk (Chatwoot, Zendesk, ...) is one more class, with no change to the core.

Desks call back into `HandoffService` (claim, reply, resolve, ask for help); the service then tells every
desk, so a claim made in the console also updates the Slack card.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("warmdesk.handoff")


@dataclass(frozen=True, slots=True)
class Ticket:
    """A handoff as desks see it."""

    handoff_id: int
    customer_id: int
    conversation_id: int
    status: str
    reason: str
    summary: str
    agent: str | None = None
    outcome: str | None = None
    rating: int | None = None


class Desk(Protocol):
    name: str

    async def handoff_started(self, ticket: Ticket) -> None: ...

    async def agent_claimed(self, ticket: Ticket, agent: str, via: str) -> None: ...

    async def agent_message(self, ticket: Ticket, agent: str, text: str, via: str) -> None: ...

    async def customer_message(self, ticket: Ticket, text: str) -> None: ...

    async def resolved(self, ticket: Ticket, agent: str | None, outcome: str) -> None: ...

    async def still_waiting(self, ticket: Ticket, minutes: int) -> None: ...

    async def help_requested(self, ticket: Ticket, agent: str) -> None: ...

    async def rated(self, ticket: Ticket, rating: int) -> None: ...


class QuietDesk:
    """A desk that ignores every event; subclass it and override what your desk shows."""

    name = "quiet"

    async def handoff_started(self, ticket: Ticket) -> None:
        return None

    async def agent_claimed(self, ticket: Ticket, agent: str, via: str) -> None:
        return None

    async def agent_message(self, ticket: Ticket, agent: str, text: str, via: str) -> None:
        return None

    async def customer_message(self, ticket: Ticket, text: str) -> None:
        return None

    async def resolved(self, ticket: Ticket, agent: str | None, outcome: str) -> None:
        return None

    async def still_waiting(self, ticket: Ticket, minutes: int) -> None:
        return None

    async def help_requested(self, ticket: Ticket, agent: str) -> None:
        return None

    async def rated(self, ticket: Ticket, rating: int) -> None:
        return None


class Desks:
    """Every configured desk; one desk failing (Slack down) never stops the others or the customer's chat."""

    def __init__(self, desks: list[Desk] | None = None) -> None:
        self._desks: list[Desk] = list(desks or [])

    def add(self, desk: Desk) -> None:
        self._desks.append(desk)

    @property
    def names(self) -> list[str]:
        return [desk.name for desk in self._desks]

    async def tell(self, event: Callable[[Desk], Awaitable[None]], what: str) -> None:
        for desk in self._desks:
            try:
                await event(desk)
            except Exception:
                log.exception("desk %s failed on %s", desk.name, what)


def agent_label(agent: str | None) -> str:
    """How to show an agent id like "slack:U123" or "console:ann" in text (Slack ids become mentions)."""
    if not agent:
        return "–"
    desk, _, name = agent.partition(":")
    if desk == "slack" and name:
        return f"<@{name}>"
    return name or agent
