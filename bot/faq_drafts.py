"""Drafts from traffic: when an agent resolves a handoff, the customer's question and the agent's answer become a
pending FAQ draft for an editor (`/staff/kb/drafts`); when the agent sent an entry's answer, the question is
proposed as another wording of that entry instead. Nothing reaches customers before an editor approves it.

It listens like a desk (the `resolved` event), so the handoff service needs no change to feed it.
"""

from __future__ import annotations

import asyncio
import logging

from bot.handoff.desk import QuietDesk, Ticket
from storage.handoffs import HandoffRepository
from storage.staff_drafts import Draft, DraftRepository

log = logging.getLogger("warmdesk.drafts")

# A customer asking for a person says nothing a FAQ could answer ("I want a human", the "Talk to a person" button).
ASKED_FOR_A_PERSON = ("explicit_request", "customer_choice")


class DraftsFromResolvedHandoffs(QuietDesk):
    name = "drafts"

    def __init__(self, handoffs: HandoffRepository, drafts: DraftRepository) -> None:
        self._handoffs, self._drafts = handoffs, drafts
        self.on_draft: list = []  # called with each new draft, on a worker thread (the editors' Slack channel)

    async def resolved(self, ticket: Ticket, agent: str | None, outcome: str) -> None:
        if outcome != "resolved" or agent is None:
            return
        draft = await asyncio.to_thread(self.propose, ticket)
        if draft is not None:
            log.info("FAQ draft %d proposed by handoff %d", draft.id, ticket.handoff_id)
            if draft.count == 1:
                for listener in self.on_draft:
                    await asyncio.to_thread(listener, draft)

    def propose(self, ticket: Ticket) -> Draft | None:
        messages = self._handoffs.transcript(ticket.conversation_id, limit=200)
        first_agent = next((i for i, m in enumerate(messages) if m.direction == "out" and m.decision == "agent"), None)
        if first_agent is None:
            return None
        questions = [
            m
            for m in messages[:first_agent]
            if m.direction == "in"
            and not m.content_type
            and m.text.strip()
            and not (m.decision == "handoff" and ticket.reason in ASKED_FOR_A_PERSON)
        ]
        answer = "\n".join(m.text for m in messages[first_agent:] if m.direction == "out" and m.decision == "agent")
        if not questions or not answer.strip():
            return None
        question, source = questions[-1], f"handoff:{ticket.handoff_id}"
        language = question.language or "en"
        if known := self._drafts.entry_answered_with(answer):
            return self._drafts.propose_question(question.text, known, language, source)
        return self._drafts.propose(question.text, answer, language, source)
