"""Follow-up questions: "when does it stop?" right after the bot explained cancelling is about cancelling.

When the message alone is not a confident answer and the bot answered the customer's previous message, the
two are searched together; if that search is a confident answer with the same entry, the follow-up gets it.
After a pressed button (no text) the previous message is the question that led to it. A message that opens a
new topic ("also, …", "另外…", the business file's [context] phrases) is left alone.

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

from bot.language import clean_text
from bot.social import tokens
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
REMEMBERED_VECTORS = 1024  # per process: the previous message of the customers writing now


class FollowupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # The search of both messages must be at least this confident (measured on the conversation benchmark:
    # lower lets questions the KB does not cover borrow the previous answer).
    min_confidence: float = Field(default=0.85, ge=0, le=1)
    new_topic: dict[str, list[str]] = Field(default_factory=dict)  # language -> phrases


class Followups:
    def __init__(
        self,
        settings: FollowupSettings,
        knowledge,
        embedder,
        max_tokens: int | None = None,
        asks_for_person: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self.settings = settings
        # "转人工" passed on is no problem to search with: the contact details or message that follow are for staff
        self._asks_for_person = asks_for_person
        self.max_tokens = max_tokens  # what the engine embeds of a message (WARMDESK_EMBED_MAX_TOKENS)
        self._knowledge = knowledge  # knowledge.base.KnowledgeBase
        self._embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # customers are answered on several threads
        self._new_topic = [
            key for phrases in settings.new_topic.values() for phrase in phrases if (key := tuple(tokens(phrase)))
        ]

    def search(self, text: str, vector: np.ndarray | None, retrieval, snapshot: ConversationSnapshot):
        """`retrieval` of `text` alone, or what the search of it with the customer's previous message finds.
        `vector` is the embedding of `text`; the engine hands every message's vector to `remember`."""
        if not self.settings.enabled or retrieval.decision == "answer" or not snapshot.recent or vector is None:
            return retrieval
        previous = snapshot.recent[-1]
        context = _context_text(snapshot.recent)
        if previous.bot_decision in PASSED_ON:
            if not context or self._asks_for_person(context) or self._opens_topic(text):
                return retrieval
            return self._with_problem(f"{context} {text}", _mean(self._vector_of(context), vector), retrieval)
        if previous.bot_decision not in ANSWERED or not previous.faq_id or not context or self._opens_topic(text):
            return retrieval
        together = f"{context} {text}"
        estimate = self._knowledge.search(together, _mean(self._vector_of(context), vector))
        if self._found_again(estimate, previous.faq_id):
            return estimate
        if estimate.top != previous.faq_id or estimate.score < UNSURE_FROM:
            return retrieval
        exact = self._knowledge.search(
            together, self._embedder.query(query_head(self._embedder, together, self.max_tokens))
        )
        return exact if self._found_again(exact, previous.faq_id) else retrieval

    def _with_problem(self, together: str, vector: np.ndarray, retrieval):
        """Only for a question that found nothing alone: the problem adds context, it does not outvote choices
        the question found itself."""
        if retrieval.decision != "no_answer":
            return retrieval
        combined = self._knowledge.search(together, vector)
        return combined if combined.decision in ("answer", "clarify") else retrieval

    def _found_again(self, combined, faq_id: str) -> bool:
        return (
            combined.decision == "answer"
            and combined.faq_id == faq_id
            and combined.score >= self.settings.min_confidence
        )

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

    def _opens_topic(self, text: str) -> bool:
        words = tokens(text)
        return any(tuple(words[: len(key)]) == key for key in self._new_topic)


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
