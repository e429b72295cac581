"""The handoff state machine: bot → waiting_agent → agent → bot, with every step guarded against doubles.

The engine calls `step` (decide, before logging), `open` (after logging) and `announce` (tell the desks).
Desks call `claim`, `reply`, `resolve` and `ask_for_help`. Everything the customer hears goes through the
outbox; every state change is a conditional UPDATE, so two agents clicking Claim at once get one winner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from bot.emotion.base import EmotionTag
from bot.handoff.agent_texts import agent_say
from bot.handoff.announcements import DeskAnnouncements, ticket_of
from bot.handoff.availability import Availability
from bot.handoff.customer_side import take_rating, tell_customer
from bot.handoff.desk import Desks, Ticket, agent_label
from bot.handoff.outcomes import (
    MAX_REPLY_CHARS,
    RATING_PREFIX,
    RATINGS,
    TALK_TO_PERSON,
    ActionResult,
    HandoffDecision,
    HandoffSettings,
    HandoffStep,
    Outcome,
    ResolveOutcome,
    since_last_handoff,
)
from bot.handoff.summary import CustomerFacts, TranscriptLine, build_summary
from bot.handoff.triggers import EarlierTurn, TriggerHit, TriggerInput, Triggers
from bot.handoff.waiting import (
    APOLOGISE_FOR,
    WaitingDecision,
    Withdrawal,
    after_unavailable,
    while_waiting,
)
from bot.language import clean_text
from bot.messages import Choice, InboundMessage, storable
from bot.outbox import Outbox
from bot.policy import Decision, PlannedReply
from bot.social import SocialDecision
from bot.texts import DEFAULT_TEXTS, Texts
from storage.conversations import ConversationSnapshot, RecentTurn
from storage.db import off_loop
from storage.handoffs import Briefing, HandoffRepository, HandoffStatus, Recipient
from storage.models import ConversationState, Handoff, utcnow

log = logging.getLogger("warmdesk.handoff")


class HandoffService:
    def __init__(
        self,
        repository: HandoffRepository,
        outbox: Outbox,
        triggers: Triggers | None = None,
        settings: HandoffSettings | None = None,
        desks: Desks | None = None,
        faq_title: Callable[[str, str], str | None] = lambda faq_id, language: None,
        clock: Callable[[], datetime] = utcnow,
        texts: Texts = DEFAULT_TEXTS,
        availability: Availability | None = None,
        withdrawal: Withdrawal | None = None,
        topics: Callable[[str], str] = lambda language: "",
    ) -> None:
        self.repository = repository
        self.outbox = outbox
        self.triggers = triggers or Triggers()
        self.settings = settings or HandoffSettings()
        self.announcements = DeskAnnouncements(repository, desks or Desks())
        self.clock = clock
        self.texts = texts
        self._faq_title = faq_title
        # Built without one (tests, embedding code): a desk is assumed staffed; the runtime passes the real one.
        self.availability = availability or Availability.staffed_by("default", self.settings.hours, clock)
        self.withdrawal = withdrawal or Withdrawal([])
        self.topics = topics
        # Relationship care (bot/care/notes.py) sets this: lines a new handoff's summary starts with.
        self.summary_preface: Callable[[int], list[str]] = lambda customer_id: []
        self.after_open: Callable[[int], object] | None = None  # LLM mode: bot.llm.summary refreshes the summary

    @property
    def desks(self) -> Desks:
        return self.announcements.desks

    @desks.setter
    def desks(self, desks: Desks) -> None:
        self.announcements.desks = desks

    # -- the engine's side ----------------------------------------------------------------------------------

    def step(
        self,
        message: InboundMessage,
        text: str,
        language: str,
        snapshot: ConversationSnapshot,
        emotion: EmotionTag,
        plan: PlannedReply,
        vector: np.ndarray | None = None,
    ) -> HandoffStep:
        """Decide before the exchange is logged: a rating, a handoff, or the bot's own plan (plus a way out)."""
        if plan.decision == Decision.HELD_FOR_AGENT:
            return HandoffStep(plan)
        if snapshot.state == ConversationState.WAITING_AGENT and snapshot.conversation_id is not None:
            return self._while_waiting(text, language, snapshot, plan)
        if (rated := take_rating(self.repository, message, text, snapshot)) is not None:
            return HandoffStep(
                PlannedReply(HandoffDecision.RATED, self.texts.say("rating_thanks", language)), rated_handoff=rated
            )
        if not self.settings.enabled or plan.decision == SocialDecision.SOCIAL:
            return HandoffStep(plan)
        if _last_decision(snapshot) == WaitingDecision.UNAVAILABLE and (
            noted := after_unavailable(plan, language, self.texts)
        ):
            return HandoffStep(noted)
        hit = self.triggers.check(
            TriggerInput(
                text=text,
                emotion=emotion.label,
                intensity=emotion.intensity,
                decision=Decision.ANSWER if plan.likely else plan.decision,  # a confirm offers an answer
                earlier=tuple(
                    EarlierTurn(t.text, t.emotion_label or "neutral", t.emotion_intensity or 0.0, _as_answered(t))
                    for t in since_last_handoff(snapshot.recent)
                ),
                tier=snapshot.tier,
                chose_person=message.choice_id == TALK_TO_PERSON,
                vector=None if message.choice_id else vector,  # a pressed button is not the customer's words
            )
        )
        if hit is not None:
            return self._handoff_step(hit, language)
        way_out = self.availability.can_take_handoff()
        return HandoffStep(_with_way_out(plan, language, self.texts) if way_out else plan)

    def _handoff_step(self, hit: TriggerHit, language: str) -> HandoffStep:
        """A person is asked for: opened when someone can take it now, else the customer is told honestly."""
        live = self.availability.can_take_handoff()
        if live:
            plan = PlannedReply(HandoffDecision.STARTED, self.texts.say("handoff_started", language))
        elif not self.availability.is_open():
            text = self.texts.say("handoff_after_hours", language)
            plan = PlannedReply(
                WaitingDecision.UNAVAILABLE, text.format(hours=self._hours_text(language), topics=self.topics(language))
            )
        else:
            text = self.texts.say("handoff_unavailable", language).format(topics=self.topics(language))
            plan = PlannedReply(WaitingDecision.UNAVAILABLE, text)
        if hit.reason in APOLOGISE_FOR:  # understand the feeling first, then act
            plan = replace(plan, text=f"{self.texts.say('handoff_apology', language)} {plan.text}")
        return HandoffStep(plan, trigger=hit, live=live)

    def _while_waiting(
        self, text: str, language: str, snapshot: ConversationSnapshot, plan: PlannedReply
    ) -> HandoffStep:
        handoff = self.repository.open_for_conversation(snapshot.conversation_id)
        if handoff is None:  # claimed or closed a moment ago
            return HandoffStep(plan)
        withdrawn = handoff.status == HandoffStatus.REQUESTED and text and self.withdrawal(text)
        if withdrawn and self.repository.resolve(handoff.id, None, WaitingDecision.WITHDRAWN, self.clock()):
            reply = PlannedReply(WaitingDecision.WITHDRAWN, self.texts.say("handoff_withdrawn", language))
            return HandoffStep(reply, rated_handoff=handoff.id)
        return HandoffStep(while_waiting(plan, language, self.texts))

    def open(self, customer_id: int, conversation_id: int, hit: TriggerHit, live: bool = True) -> int | None:
        """Store the handoff with its evidence and summary; None if this conversation already had one open.
        Not `live`: stored as a message for staff (status "message"), the conversation stays with the bot."""
        handoff, created = self.repository.start(
            conversation_id,
            customer_id,
            hit.reason,
            hit.evidence,
            self.clock(),
            summarise=self._summarise,
            status=HandoffStatus.REQUESTED if live else HandoffStatus.MESSAGE,
        )
        if created and self.after_open is not None:
            self.after_open(handoff.id)
        return handoff.id if created else None

    def after_logging(self, step: HandoffStep, customer_id: int, conversation_id: int) -> int | None:
        """The engine's call once the exchange is logged: the handoff this message opened or touched."""
        if step.trigger is not None:
            return self.open(customer_id, conversation_id, step.trigger, live=step.live)
        return step.rated_handoff

    def announce_soon(self, decision: str | None, handoff_id: int | None, conversation_id: int | None, text: str):
        """`announce` without keeping the customer waiting for Slack; one conversation's events stay in order."""
        self.announcements.soon(decision, handoff_id, conversation_id, text)

    async def settle(self) -> None:
        """Wait until every announcement started so far has been told (shutdown, tests)."""
        await self.announcements.settle()

    async def announce(self, decision: str | None, handoff_id: int | None, conversation_id: int | None, text: str):
        """After the customer got their reply: post the new handoff, mirror a held message, pass on a rating."""
        await self.announcements.announce(decision, handoff_id, conversation_id, text)

    # -- the agents' side -----------------------------------------------------------------------------------

    async def claim(self, handoff_id: int, agent: str, via: str, take_over: bool = False) -> ActionResult:
        handoff = await off_loop(self.repository.get, handoff_id)
        if problem := self._closed_or_missing(handoff_id, handoff):
            return problem
        if handoff.status == HandoffStatus.CLAIMED and handoff.agent == agent:
            return ActionResult(Outcome.DUPLICATE, handoff)
        if not await off_loop(self.repository.claim, handoff_id, agent, self.clock(), take_over=take_over):
            current = await off_loop(self.repository.get, handoff_id)
            if problem := self._closed_or_missing(handoff_id, current):
                return problem
            return ActionResult(
                Outcome.ALREADY_CLAIMED,
                current,
                self._say("error.already_claimed", id=handoff_id, agent=agent_label(current.agent)),
            )
        recipient = await off_loop(self.repository.recipient, handoff.conversation_id)
        if recipient is not None:
            joined = self.texts.say("agent_joined", recipient.language)
            await off_loop(self._tell_customer, recipient, joined, f"handoff-{handoff_id}-joined", "agent_joined")
        ticket = await off_loop(self.ticket, handoff_id)
        await self.desks.tell(lambda desk: desk.agent_claimed(ticket, agent, via), "agent_claimed")
        return ActionResult(Outcome.OK, await off_loop(self.repository.get, handoff_id))

    async def reply(self, handoff_id: int, agent: str, text: str, via: str, key: str) -> ActionResult:
        """An agent's message to the customer; the same `key` (e.g. a Slack message ts) is delivered once."""
        handoff = await off_loop(self.repository.get, handoff_id)
        delivery_key = f"handoff-{handoff_id}-{via}-{key}"
        if problem := self._closed_or_missing(handoff_id, handoff):
            if handoff is not None and await off_loop(self.repository.agent_message_logged, handoff_id, delivery_key):
                return ActionResult(Outcome.DUPLICATE, handoff)  # a retry of a reply sent before the close
            return problem
        text = storable(text)
        if not clean_text(text):  # a file, or only spaces: nothing a customer could read
            return ActionResult(Outcome.EMPTY, handoff, self._say("error.empty_reply"))
        if len(text) > MAX_REPLY_CHARS:
            return ActionResult(Outcome.TOO_LONG, handoff, self._say("error.reply_too_long", limit=MAX_REPLY_CHARS))
        if handoff.status == HandoffStatus.REQUESTED:
            return ActionResult(Outcome.NOT_CLAIMED, handoff, self._say("notice.not_claimed"))
        if handoff.agent != agent:
            return ActionResult(
                Outcome.NOT_OWNER, handoff, self._say("notice.not_owner", owner=agent_label(handoff.agent))
            )
        recipient = await off_loop(self.repository.recipient, handoff.conversation_id)
        if recipient is None:
            return ActionResult(Outcome.CUSTOMER_GONE, handoff, self._say("error.customer_gone", id=handoff_id))
        if not await off_loop(self._tell_customer, recipient, text, delivery_key, kind="agent"):
            return ActionResult(Outcome.DUPLICATE, handoff)
        ticket = ticket_of(handoff)
        await self.desks.tell(lambda desk: desk.agent_message(ticket, agent, text, via), "agent_message")
        return ActionResult(Outcome.OK, handoff)

    async def resolve(self, handoff_id: int, agent: str, via: str, outcome: str = ResolveOutcome.RESOLVED):
        """Back to the bot; the customer is asked for a 1–5 rating when a person worked on it."""
        handoff = await off_loop(self.repository.get, handoff_id)
        if problem := self._closed_or_missing(handoff_id, handoff):
            return problem
        if handoff.status == HandoffStatus.CLAIMED and handoff.agent != agent:
            return ActionResult(
                Outcome.NOT_OWNER, handoff, self._say("notice.not_owner_closing", owner=agent_label(handoff.agent))
            )
        if not await off_loop(self.repository.resolve, handoff_id, agent, outcome, self.clock()):
            return ActionResult(Outcome.CLOSED, handoff, self._say("error.closed", id=handoff_id))
        recipient = await off_loop(self.repository.recipient, handoff.conversation_id)
        if recipient is not None:
            if handoff.claimed_at is not None:
                choices = [Choice(f"{RATING_PREFIX}{handoff_id}:{n}", str(n)) for n in RATINGS]
                text = self.texts.say("rating_request", recipient.language)
                await off_loop(
                    self._tell_customer, recipient, text, f"handoff-{handoff_id}-rating", "rating_request", choices
                )
            else:
                back = self.texts.say("back_to_bot", recipient.language)
                await off_loop(self._tell_customer, recipient, back, f"handoff-{handoff_id}-back", "back_to_bot")
        ticket = await off_loop(self.ticket, handoff_id)
        await self.desks.tell(lambda desk: desk.resolved(ticket, agent, outcome), "resolved")
        return ActionResult(Outcome.OK, await off_loop(self.repository.get, handoff_id))

    async def ask_for_help(self, handoff_id: int, agent: str) -> ActionResult:
        handoff = await off_loop(self.repository.get, handoff_id)
        if problem := self._closed_or_missing(handoff_id, handoff):
            return problem
        ticket = ticket_of(handoff)
        await self.desks.tell(lambda desk: desk.help_requested(ticket, agent), "help_requested")
        return ActionResult(Outcome.OK, handoff)

    # -- waiting --------------------------------------------------------------------------------------------

    async def check_waiting(self) -> int:
        """Tell customers unclaimed for `wait_minutes` how long they have waited and how many asked before them
        (real figures, never a promised wait), once, and re-ping the desks."""
        now = self.clock()
        reminded = 0
        for handoff in await off_loop(
            self.repository.unclaimed_since, now - timedelta(minutes=self.settings.wait_minutes)
        ):
            if not await off_loop(self.repository.mark_reminded, handoff.id, now):
                continue
            reminded += 1
            minutes = int((now - handoff.requested_at).total_seconds() // 60)
            recipient = await off_loop(self.repository.recipient, handoff.conversation_id)
            if recipient is not None:
                ahead = await off_loop(self.repository.waiting_before, handoff.id)
                text = self.texts.say("handoff_wait", recipient.language).format(minutes=minutes, ahead=ahead)
                await off_loop(self._tell_customer, recipient, text, f"handoff-{handoff.id}-wait", "handoff_wait")
            ticket = ticket_of(handoff)
            await self.desks.tell(lambda desk, t=ticket, m=minutes: desk.still_waiting(t, m), "still_waiting")
        return reminded

    async def watch(self, stop: asyncio.Event) -> None:
        """Run `check_waiting` every `check_seconds` until `stop` is set."""
        while not stop.is_set():
            try:
                await self.check_waiting()
            except Exception:
                log.exception("checking unclaimed handoffs failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.check_seconds)

    # -- helpers --------------------------------------------------------------------------------------------

    def ticket(self, handoff_id: int) -> Ticket | None:
        return self.announcements.ticket(handoff_id)

    def _hours_text(self, language: str) -> str:
        hours = self.settings.hours
        return self.texts.say("always_open", language) if hours.always_open else f"{hours.text} ({hours.timezone})"

    def _tell_customer(self, recipient: Recipient, text: str, key: str, kind: str = "handoff", choices=None) -> bool:
        return tell_customer(self.repository, self.outbox, recipient, text, key, kind, choices)

    def _closed_or_missing(self, handoff_id: int, handoff: Handoff | None) -> ActionResult | None:
        if handoff is None and self.repository.was_shown(handoff_id):
            return ActionResult(Outcome.CUSTOMER_GONE, None, self._say("error.customer_gone", id=handoff_id))
        if handoff is None:
            return ActionResult(Outcome.MISSING, None, self._say("error.unknown", id=handoff_id))
        if handoff.status == HandoffStatus.RESOLVED:
            return ActionResult(Outcome.CLOSED, handoff, self._say("error.closed", id=handoff_id))
        return None

    def _summarise(self, briefing: Briefing) -> str:
        handoff, row, language = briefing.handoff, briefing.customer, self.settings.agent_language
        transcript = [
            TranscriptLine(m.direction, m.shown_text, m.emotion_label, m.emotion_intensity, m.faq_id, m.decision)
            for m in briefing.transcript
        ]
        summary = build_summary(
            handoff.id,
            CustomerFacts(row.customer_id, row.name, row.channel, row.tier, row.previous_handoffs),
            transcript,
            TriggerHit(handoff.reason, handoff.evidence or {}),
            lambda faq_id: self._faq_title(faq_id, language),
            language,
            button_labels=self._button_labels(),
            preface=self.summary_preface(row.customer_id),
        )
        return summary.render()

    def _button_labels(self) -> set[str]:
        keys = ("none_of_these", "talk_to_person")
        return {self.texts.say(key, language) for key in keys for language in self.texts.languages}

    def live_summary(self, briefing: Briefing) -> str:
        """The summary as the conversation stands now (the console rebuilds it whenever it shows a handoff)."""
        return self._summarise(briefing)

    def _say(self, key: str, **values: object) -> str:
        return agent_say(key, self.settings.agent_language, **values)


def _last_decision(snapshot: ConversationSnapshot) -> str | None:
    return snapshot.recent[-1].bot_decision if snapshot.recent else None


def _with_way_out(plan: PlannedReply, language: str, texts: Texts) -> PlannedReply:
    """After a failed answer the customer can always choose a person (when someone can take it)."""
    if plan.decision not in (Decision.NO_ANSWER, Decision.REPHRASE):
        return plan
    choices = [*plan.choices, Choice(TALK_TO_PERSON, texts.say("talk_to_person", language))]
    return PlannedReply(plan.decision, plan.text, plan.faq_id, plan.score, choices)


def _as_answered(turn: RecentTurn) -> str | None:
    """A clarify logged with an entry offered a likely answer to confirm: for the triggers it was answered."""
    return Decision.ANSWER if turn.bot_decision == Decision.CLARIFY and turn.faq_id else turn.bot_decision
