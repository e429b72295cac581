"""Telling the staff desks what happened in a conversation after the customer got their reply: a new handoff, a
message held while the customer waits, a rating, a withdrawn request.

Each conversation's events are told in order, without keeping the customer waiting for Slack; `settle` waits for
everything started so far (shutdown, tests).
"""

from __future__ import annotations

import asyncio
import logging

from bot.handoff.desk import Desks, Ticket
from bot.handoff.outcomes import HandoffDecision
from bot.handoff.waiting import WHILE_WAITING, WaitingDecision
from storage.db import off_loop
from storage.handoffs import HandoffRepository
from storage.models import Handoff

log = logging.getLogger("warmdesk.handoff")


class DeskAnnouncements:
    def __init__(self, repository: HandoffRepository, desks: Desks) -> None:
        self.repository = repository
        self.desks = desks
        self._telling: dict[int | None, asyncio.Task] = {}  # the newest announcement per conversation

    def soon(self, decision: str | None, handoff_id: int | None, conversation_id: int | None, text: str) -> None:
        """`announce` in the background; one conversation's events stay in order."""
        if not _announces(decision, handoff_id, conversation_id):
            return
        earlier = self._telling.get(conversation_id)
        task = asyncio.create_task(self._announce_after(earlier, decision, handoff_id, conversation_id, text))
        self._telling[conversation_id] = task
        task.add_done_callback(lambda done: self._forget(conversation_id, done))

    def _forget(self, conversation_id: int | None, done: asyncio.Task) -> None:
        if self._telling.get(conversation_id) is done:
            del self._telling[conversation_id]

    async def settle(self) -> None:
        while self._telling:
            await asyncio.gather(*list(self._telling.values()), return_exceptions=True)

    async def _announce_after(self, earlier: asyncio.Task | None, *announcement) -> None:
        if earlier is not None:
            await asyncio.wait([earlier])
        try:
            await self.announce(*announcement)
        except Exception:
            log.exception("telling the desks about conversation %s failed", announcement[2])

    async def announce(self, decision: str | None, handoff_id: int | None, conversation_id: int | None, text: str):
        """Post the new handoff, mirror a held message, pass on a rating or a withdrawal."""
        if decision == HandoffDecision.STARTED and handoff_id:
            ticket = await off_loop(self.ticket, handoff_id)
            if ticket:
                await self.desks.tell(lambda desk: desk.handoff_started(ticket), "handoff_started")
        elif decision in WHILE_WAITING and conversation_id:
            handoff = await off_loop(self.repository.open_for_conversation, conversation_id)
            if handoff:
                ticket = ticket_of(handoff)
                await self.desks.tell(lambda desk: desk.customer_message(ticket, text), "customer_message")
        elif decision == HandoffDecision.RATED and handoff_id:
            ticket = await off_loop(self.ticket, handoff_id)
            if ticket and ticket.rating:
                await self.desks.tell(lambda desk: desk.rated(ticket, ticket.rating), "rated")
        elif decision == WaitingDecision.WITHDRAWN and handoff_id:
            ticket = self.ticket(handoff_id)
            if ticket:
                await self.desks.tell(lambda desk: desk.resolved(ticket, None, ticket.outcome), "resolved")

    def ticket(self, handoff_id: int) -> Ticket | None:
        handoff = self.repository.get(handoff_id)
        return ticket_of(handoff) if handoff else None


def ticket_of(handoff: Handoff) -> Ticket:
    """What a desk is told about a handoff."""
    return Ticket(
        handoff_id=handoff.id,
        customer_id=handoff.customer_id,
        conversation_id=handoff.conversation_id,
        status=handoff.status,
        reason=handoff.reason,
        summary=handoff.summary or "",
        agent=handoff.agent,
        outcome=handoff.outcome,
        rating=handoff.rating,
    )


def _announces(decision: str | None, handoff_id: int | None, conversation_id: int | None) -> bool:
    if decision in (HandoffDecision.STARTED, HandoffDecision.RATED, WaitingDecision.WITHDRAWN):
        return handoff_id is not None
    return decision in WHILE_WAITING and conversation_id is not None
