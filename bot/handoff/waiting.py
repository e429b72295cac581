"""What the bot does around a handoff besides opening it: while a customer waits for a person it keeps
answering knowledge-base questions (marked for the agent), acknowledges everything else and lets the customer
withdraw; when nobody can take a handoff it says so and notes what the customer leaves for staff."""

from __future__ import annotations

from dataclasses import replace

from bot.policy import Decision, PlannedReply
from bot.social import SocialDecision, tokens
from bot.texts import Texts


class WaitingDecision:
    ANSWER = "answer_while_waiting"  # shown to the customer as kind "answer"
    CLARIFY = "clarify_while_waiting"  # shown as kind "clarify"
    WITHDRAWN = "handoff_withdrawn"
    UNAVAILABLE = "handoff_unavailable"  # nobody could take it: the customer may leave a message
    LEFT_MESSAGE = "left_message"


# Logged while a handoff waits: the agent sees them marked in the transcript, and they are mirrored to desks.
WHILE_WAITING = frozenset({WaitingDecision.ANSWER, WaitingDecision.CLARIFY, Decision.HELD_FOR_AGENT})
# What the bot can still do itself when no desk is there.
SELF_SERVICE = frozenset({Decision.ANSWER, Decision.CLARIFY, SocialDecision.SOCIAL, Decision.EMPTY, Decision.NON_TEXT})
# Emotional reasons: the customer hears an apology before being passed on.
APOLOGISE_FOR = frozenset({"anger", "complaint", "negative_trend"})


class Withdrawal:
    """ "never mind" / 不用了: the whole message is one of the business file's [desk] withdraw phrases."""

    def __init__(self, phrases: list[str]) -> None:
        self._phrases = {key for phrase in phrases if (key := tuple(tokens(phrase)))}

    def __call__(self, text: str) -> bool:
        return tuple(tokens(text)) in self._phrases


def while_waiting(plan: PlannedReply, language: str, texts: Texts) -> PlannedReply:
    """An answer or a question with choices goes out as usual (logged as given while waiting); a social
    turn gets its reply; anything else is acknowledged as added to the request."""
    if plan.decision == Decision.ANSWER:
        return replace(plan, decision=WaitingDecision.ANSWER, kind=Decision.ANSWER)
    if plan.decision == Decision.CLARIFY:
        return replace(plan, decision=WaitingDecision.CLARIFY, kind=Decision.CLARIFY)
    if plan.decision == SocialDecision.SOCIAL:
        return replace(plan, decision=Decision.HELD_FOR_AGENT, kind=SocialDecision.SOCIAL)
    return PlannedReply(Decision.HELD_FOR_AGENT, texts.say("waiting_ack", language), kind="waiting")


def after_unavailable(plan: PlannedReply, language: str, texts: Texts) -> PlannedReply | None:
    """The turn after "nobody is online": what the bot cannot answer itself is noted for staff."""
    if plan.decision in SELF_SERVICE:
        return None
    return PlannedReply(WaitingDecision.LEFT_MESSAGE, texts.say("message_noted", language))
