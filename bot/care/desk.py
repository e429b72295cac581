"""Relationship care listens to handoffs as one more desk: a resolved handoff schedules its follow-ups.

A desk is how the handoff service tells the world what happened (see `bot/handoff/desk.py`), so care needs no
change to the handoff code. Other care features (SLA, care notes) add their reactions here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.care.followups import FollowUps
from bot.handoff.desk import QuietDesk, Ticket

log = logging.getLogger("warmdesk.care")

Reaction = Callable[[Ticket], Awaitable[None]]


class CareDesk(QuietDesk):
    name = "care"

    def __init__(self, followups: FollowUps) -> None:
        self.followups = followups
        self.on_started: list[Reaction] = []
        self.on_first_answer: list[Callable[[Ticket, str], Awaitable[None]]] = []
        self.on_resolved: list[Callable[[Ticket, str | None], Awaitable[None]]] = []

    async def handoff_started(self, ticket: Ticket) -> None:
        for reaction in self.on_started:
            await reaction(ticket)

    async def agent_message(self, ticket: Ticket, agent: str, text: str, via: str) -> None:
        for reaction in self.on_first_answer:
            await reaction(ticket, agent)

    async def resolved(self, ticket: Ticket, agent: str | None, outcome: str) -> None:
        scheduled = await asyncio.to_thread(self.followups.on_resolved, ticket.handoff_id)
        if scheduled:
            log.info("handoff %s: scheduled %s", ticket.handoff_id, ", ".join(s.kind for s in scheduled))
        for reaction in self.on_resolved:
            await reaction(ticket, agent)
