"""Turning a retrieval into what the bot says: an answer, a question with choices, or an honest 'not yet'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.messages import Choice
from bot.texts import Texts
from knowledge.entry import FaqEntry

FAQ_CHOICE_PREFIX = "faq:"
NONE_OF_THESE = "none"
MAX_CHOICES = 3


class Decision:
    ANSWER = "answer"
    CLARIFY = "clarify"
    NO_ANSWER = "no_answer"
    EMPTY = "empty"
    NON_TEXT = "non_text"
    HELD_FOR_AGENT = "held_for_agent"
    OUT_OF_SCOPE = "out_of_scope"
    REPHRASE = "rephrase"  # after "None of these": say it in other words, or talk to a person


@dataclass(frozen=True, slots=True)
class PlannedReply:
    decision: str
    text: str
    faq_id: str | None = None
    score: float | None = None
    choices: list[Choice] = field(default_factory=list)
    kind: str | None = None  # what the platform is told (web chat's `kind`) when it differs from `decision`
    # A clarify that offers a likely answer to confirm (the retrieval would have answered with it): the
    # handoff triggers treat the turn as answered, as they did before it was asked as a question.
    likely: str | None = None

    @property
    def shown_kind(self) -> str:
        return self.kind or self.decision


def answer(entry: FaqEntry, language: str, score: float | None) -> PlannedReply:
    return PlannedReply(Decision.ANSWER, entry.answer_for(language), faq_id=entry.id, score=score)


def clarify(
    candidates: list[FaqEntry], language: str, score: float | None, texts: Texts, question: str = "clarify"
) -> PlannedReply:
    choices = [Choice(FAQ_CHOICE_PREFIX + entry.id, entry.title(language)) for entry in candidates[:MAX_CHOICES]]
    choices.append(Choice(NONE_OF_THESE, texts.say("none_of_these", language)))
    return PlannedReply(Decision.CLARIFY, texts.say(question, language), score=score, choices=choices)


def no_answer(language: str, texts: Texts, score: float | None = None) -> PlannedReply:
    return PlannedReply(Decision.NO_ANSWER, texts.say("no_answer", language), score=score)


def plan_reply(
    retrieval,
    language: str,
    lookup: Callable[[str], FaqEntry | None],
    texts: Texts,
    topics: Callable[[str], str] = lambda language: "",
) -> PlannedReply:
    """`retrieval` is a knowledge.base.Retrieval; entries removed since it was computed are skipped.
    A question nowhere near any entry (below the clarify threshold) is out of scope: the bot says what it can
    help with instead; that is not a failed answer and never hands off by itself."""
    if retrieval.decision == Decision.ANSWER and (entry := lookup(retrieval.faq_id)):
        offered = [found for c in retrieval.confirm if (found := lookup(c.faq_id))]
        if offered:  # likely, not sure: offered as a choice rather than said outright
            plan = clarify(offered, language, retrieval.score, texts, "clarify" if len(offered) > 1 else "confirm")
            return replace(plan, likely=entry.id)
        return answer(entry, language, retrieval.score)
    if retrieval.decision == Decision.CLARIFY:
        entries = [entry for c in retrieval.candidates if (entry := lookup(c.faq_id))]
        if len(entries) >= 2:
            return clarify(entries, language, retrieval.score, texts)
        if entries:
            return answer(entries[0], language, retrieval.score)
    if retrieval.out_of_scope:
        text = texts.say("out_of_scope", language).format(topics=topics(language))
        return PlannedReply(Decision.OUT_OF_SCOPE, text, score=retrieval.score)
    return no_answer(language, texts, retrieval.score)


def plan_choice(choice_id: str, language: str, lookup: Callable[[str], FaqEntry | None], texts: Texts) -> PlannedReply:
    """The customer pressed a button the bot offered."""
    if choice_id.startswith(FAQ_CHOICE_PREFIX) and (entry := lookup(choice_id.removeprefix(FAQ_CHOICE_PREFIX))):
        return answer(entry, language, None)
    if choice_id == NONE_OF_THESE:
        return PlannedReply(Decision.REPHRASE, texts.say("rephrase", language))
    return no_answer(language, texts)
