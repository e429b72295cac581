"""What the handoff stage hands back and logs: decisions, action outcomes, settings and one message's step."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.handoff.hours import BusinessHours
from bot.handoff.triggers import TriggerHit
from bot.handoff.waiting import WHILE_WAITING, WaitingDecision
from bot.policy import Decision, PlannedReply
from storage.models import Handoff

TALK_TO_PERSON = "handoff:person"
RATING_PREFIX = "rating:"
RATINGS = range(1, 6)


class HandoffDecision:
    STARTED = "handoff"
    RATED = "rating"


# What was logged around a handoff (by the engine, or for messages the agents and the desk sent).
HANDOFF_DECISIONS = frozenset(
    {
        HandoffDecision.STARTED,
        HandoffDecision.RATED,
        Decision.HELD_FOR_AGENT,
        "agent",
        "agent_joined",
        "handoff_wait",
        "rating_request",
        "back_to_bot",
        *WHILE_WAITING,
        WaitingDecision.WITHDRAWN,
        WaitingDecision.UNAVAILABLE,
        WaitingDecision.LEFT_MESSAGE,
    }
)


MAX_REPLY_CHARS = 4000  # an agent's message to a customer; longer ones are refused on every desk, not cut


class Outcome(StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"
    MISSING = "missing"
    CLOSED = "closed"
    ALREADY_CLAIMED = "already_claimed"
    NOT_CLAIMED = "not_claimed"
    NOT_OWNER = "not_owner"
    CUSTOMER_GONE = "customer_gone"
    EMPTY = "empty"
    TOO_LONG = "too_long"


class ResolveOutcome:
    RESOLVED = "resolved"
    RETURNED_TO_BOT = "returned_to_bot"


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: Outcome
    handoff: Handoff | None = None
    message: str = ""  # for the agent, in the agent-side language

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.OK, Outcome.DUPLICATE)


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    enabled: bool = True
    agent_language: str = "en"
    wait_minutes: float = 5.0
    hours: BusinessHours = field(default_factory=lambda: BusinessHours(()))
    check_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class HandoffStep:
    """What the handoff stage made of one customer message."""

    plan: PlannedReply
    trigger: TriggerHit | None = None
    rated_handoff: int | None = None  # also: the handoff the customer just withdrew
    live: bool = True  # False: nobody could take it, so the trigger leaves a message for staff instead


def since_last_handoff(turns: tuple) -> tuple:
    """What the customer said since a person last had the conversation: a person's help starts a new context,
    for the next handoff and for reading the customer's mood (asking again after it is not a repeat)."""
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].bot_decision in HANDOFF_DECISIONS:
            return turns[index + 1 :]
    return turns
