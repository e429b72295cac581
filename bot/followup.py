"""Follow-up questions: "when does it stop?" right after the bot explained cancelling is about cancelling.

When the message alone is not a confident answer and the bot answered the customer's previous message, the
two are searched together; if that search is a confident answer with the same entry, the follow-up gets it.
A message that opens a new topic ("also, …", "另外…", the business file's [context] phrases) is left alone.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.social import tokens
from storage.conversations import ConversationSnapshot

ANSWERED = frozenset({"answer", "answer_while_waiting"})


class FollowupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # The search of both messages must be at least this confident (measured on the conversation benchmark:
    # lower lets questions the KB does not cover borrow the previous answer).
    min_confidence: float = Field(default=0.85, ge=0, le=1)
    new_topic: dict[str, list[str]] = Field(default_factory=dict)  # language -> phrases


class Followups:
    def __init__(self, settings: FollowupSettings, knowledge, embedder) -> None:
        self.settings = settings
        self._knowledge = knowledge  # knowledge.base.KnowledgeBase
        self._embedder = embedder
        self._new_topic = [
            key for phrases in settings.new_topic.values() for phrase in phrases if (key := tuple(tokens(phrase)))
        ]

    def search(self, text: str, retrieval, snapshot: ConversationSnapshot):
        """`retrieval` of `text` alone, or the previous answer's entry found again with the previous question."""
        if not self.settings.enabled or retrieval.decision == "answer" or not snapshot.recent:
            return retrieval
        previous = snapshot.recent[-1]
        if previous.bot_decision not in ANSWERED or not previous.faq_id or self._opens_topic(text):
            return retrieval
        together = f"{previous.text} {text}"
        combined = self._knowledge.search(together, self._embedder.query(together))
        if (
            combined.decision == "answer"
            and combined.faq_id == previous.faq_id
            and combined.score >= self.settings.min_confidence
        ):
            return combined
        return retrieval

    def _opens_topic(self, text: str) -> bool:
        words = tokens(text)
        return any(tuple(words[: len(key)]) == key for key in self._new_topic)
