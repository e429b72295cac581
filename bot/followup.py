"""Follow-up questions: "when does it stop?" right after the bot explained cancelling is about cancelling.

When the message alone is not a confident answer and the bot answered the customer's previous message, the
two are searched together; if that search is a confident answer with the same entry, the follow-up gets it.
After a pressed button (no text) the previous message is the question that led to it. A message that opens a
new topic ("also, …", "另外…", "that worked, now …", the business file's [context] phrases) is left alone; one
that points back at the previous question ("when does *it* stop?") needs less confidence from the search of both
(`referring_min_confidence`); one that asks for an alternative ("what if I downgrade *instead*") is never given the
previous answer again (bot/context_words.py).

The search of both first uses no second embedding: its vector is the mean of the two messages' own vectors (the
previous one kept from its turn, by text), its words both messages' words. That estimate scores a little lower
than an embedding of both texts together; only when it finds the previous entry with an unsure confidence
(UNSURE_FROM up to min_confidence) are both texts embedded together: on the conversation benchmark that is
about one turn in thirty instead of every follow-up candidate (one in six), with the same answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bot.context_words import ContextWords, Question
from bot.language import clean_text
from knowledge.decision import Retrieval
from knowledge.embedder import query_head
from storage.conversations import ConversationSnapshot, RecentTurn

ANSWERED = frozenset({"answer", "answer_while_waiting"})
# The customer told a problem the bot passed on (a handoff, or "nobody is online"): the next question is often
# about it ("what do I bring to the store to close a number" after "my mum passed away, I need to close her
# account"), so one that finds nothing alone is searched with it and gets the answer or choices that search finds.
PASSED_ON = frozenset({"handoff", "handoff_unavailable"})
# The estimate's confidence from which the exact search may still reach min_confidence: on the conversation
# benchmark's follow-ups the exact search scored at most 0.25 above the estimate.
UNSURE_FROM = 0.6
UNSURE_MARGIN = 0.25  # the same margin below a follow-up's own threshold (referring_min_confidence)
# "... instead": the customer asked for another option than the previous answer, so the likeliest others (at
# most MAX_ALTERNATIVES, each at least ALTERNATIVE_FLOOR confident: near the KB, not a shot in the dark) are
# offered as choices when none is a sure answer.
ALTERNATIVE_FLOOR = 0.1
MAX_ALTERNATIVES = 2
REMEMBERED_VECTORS = 1024  # per process: the previous message of the customers writing now


class FollowupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # The search of both messages must be at least this confident (measured on the conversation benchmark:
    # lower lets questions the KB does not cover borrow the previous answer).
    min_confidence: float = Field(default=0.85, ge=0, le=1)
    # ... and this confident when the message points back at the previous one ("it", "它"): "when does it stop,
    # right away?" finds the cancelling entry at 0.59; unrelated new questions say what they are about instead.
    referring_min_confidence: float = Field(default=0.5, ge=0, le=1)
    new_topic: dict[str, list[str]] = Field(default_factory=dict)  # language -> phrases
    resolved: dict[str, list[str]] = Field(default_factory=dict)
    lead_in: dict[str, list[str]] = Field(default_factory=dict)
    refers_back: dict[str, list[str]] = Field(default_factory=dict)
    instead: dict[str, list[str]] = Field(default_factory=dict)


class Followups:
    def __init__(
        self,
        settings: FollowupSettings,
        knowledge,
        embedder,
        max_tokens: int | None = None,
        asks_for_person: Callable[[str], bool] = lambda _: False,
        social_phrases: list[str] = (),
    ) -> None:
        self.settings = settings
        # "转人工" passed on is no problem to search with: the contact details or message that follow are for staff
        self._asks_for_person = asks_for_person
        self.max_tokens = max_tokens  # what the engine embeds of a message (WARMDESK_EMBED_MAX_TOKENS)
        self._knowledge = knowledge  # knowledge.base.KnowledgeBase
        self._embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # customers are answered on several threads
        self.words = ContextWords(
            lead_in=settings.lead_in,
            new_topic=settings.new_topic,
            resolved=settings.resolved,
            refers_back=settings.refers_back,
            instead=settings.instead,
            social=list(social_phrases),
        )

    def question(self, text: str) -> Question:
        """What of `text` is searched (without its lead-in), and how it relates to the previous message."""
        return self.words.read(text) if self.settings.enabled else Question(text)

    def search(self, text: str, vector: np.ndarray | None, retrieval, snapshot: ConversationSnapshot):
        """`retrieval` of `text` alone, or what the search of it with the customer's previous message finds.
        `vector` is the embedding of `text` without its lead-in (`question`); the engine hands every message's
        vector to `remember`."""
        if not self.settings.enabled or not snapshot.recent or vector is None:
            return retrieval
        question = self.question(text)
        previous = snapshot.recent[-1]
        context = _context_text(snapshot.recent)
        answered = previous.bot_decision in ANSWERED and previous.faq_id and context and not question.new_topic
        if answered and question.instead:
            return self._alternative(question.text, vector, retrieval, previous.faq_id)
        if retrieval.decision == "answer" and not (answered and retrieval.confirm):
            return retrieval  # a sure answer alone; an unsure one ("can it cover last year?") may be a follow-up
        if previous.bot_decision in PASSED_ON:
            if not context or self._asks_for_person(context) or question.new_topic:
                return retrieval
            together = f"{context} {question.text}"
            return self._with_problem(together, _mean(self._vector_of(context), vector), retrieval)
        if not answered:
            return retrieval
        needed = self.settings.referring_min_confidence if question.refers_back else self.settings.min_confidence
        needed = min(needed, self.settings.min_confidence)
        together = f"{context} {question.text}"
        estimate = self._knowledge.search(together, _mean(self._vector_of(context), vector))
        if retrieval.decision == "answer":  # unsure alone: the follow-up reading must be the likelier one
            needed = max(needed, retrieval.score)
        if self._found_again(estimate, previous.faq_id, needed):
            return estimate
        if estimate.top != previous.faq_id or estimate.score < min(UNSURE_FROM, needed - UNSURE_MARGIN):
            return retrieval
        exact = self._knowledge.search(
            together, self._embedder.query(query_head(self._embedder, together, self.max_tokens))
        )
        return exact if self._found_again(exact, previous.faq_id, needed) else retrieval

    def _alternative(self, text: str, vector: np.ndarray, retrieval, previous_id: str):
        """After the cancelling answer, "what if I downgrade instead?" never gets that answer again. The customer
        asked for another option of the same business, so the likeliest others are offered as choices even when
        none is confident alone (one nowhere near the KB, below ALTERNATIVE_FLOOR, is not offered)."""
        involved = retrieval.top == previous_id or any(c.faq_id == previous_id for c in retrieval.confirm)
        others = self._knowledge.search(text, vector, exclude=(previous_id,)) if involved else retrieval
        sure = others.decision == "answer" and not others.confirm
        if sure or others.decision == "clarify" or not others.candidates:
            return others
        ranked = sorted((c for c in others.candidates if c.faq_id != previous_id), key=lambda c: -c.score)
        if not ranked:
            return others
        offered = [c for c in ranked[:MAX_ALTERNATIVES] if c.score >= ALTERNATIVE_FLOOR]
        if not offered:
            return others
        if len(offered) == 1:  # one likely option: "Is this what you mean?"
            return Retrieval("answer", offered[0].faq_id, offered[0].faq_id, offered[0].score, ranked, confirm=offered)
        return Retrieval("clarify", None, offered[0].faq_id, offered[0].score, offered)

    def _with_problem(self, together: str, vector: np.ndarray, retrieval):
        """Only for a question that found nothing alone: the problem adds context, it does not outvote choices
        the question found itself."""
        if retrieval.decision != "no_answer":
            return retrieval
        combined = self._knowledge.search(together, vector)
        return combined if combined.decision in ("answer", "clarify") else retrieval

    @staticmethod
    def _found_again(combined, faq_id: str, needed: float) -> bool:
        return combined.decision == "answer" and combined.faq_id == faq_id and combined.score >= needed

    def _vector_of(self, text: str) -> np.ndarray:
        """The previous message's vector from its own turn; embedded again only if this process did not see it
        (another worker, a restart)."""
        text = clean_text(text)  # as the engine embedded it
        with self._lock:
            vector = self._vectors.get(text)
        if vector is None:
            vector = self._embedder.query(query_head(self._embedder, text, self.max_tokens))
            self.remember(text, vector)
        return vector

    def remember(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > REMEMBERED_VECTORS:
                self._vectors.popitem(last=False)


def _context_text(recent: tuple[RecentTurn, ...]) -> str:
    """The customer's previous words; after a pressed button (no text), the question that led to it."""
    for turn in reversed(recent):
        if turn.text.strip():
            return turn.text
    return ""


def _mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = np.asarray(a, dtype=np.float32) + np.asarray(b, dtype=np.float32)
    norm = float(np.linalg.norm(total))
    return total / norm if norm > 0 else total
