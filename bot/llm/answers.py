"""Grounded answers: the LLM composes the reply from the retrieved entries and the recent conversation, names the
entry it used, or says none fits; the grounding check decides whether the customer ever sees the composed text.

The engine calls `compose()` with the plan it made offline; whatever goes wrong, that plan is what is returned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers import JsonOutputParser

from bot.emotion.base import EmotionTag
from bot.llm import prompts
from bot.llm.client import CallFor, LlmClient
from bot.llm.grounding import LlmRules, check
from bot.llm.masking import Masker
from bot.messages import InboundMessage
from bot.policy import Decision, PlannedReply, no_answer
from bot.texts import Texts
from knowledge.entry import FaqEntry
from storage.conversations import ConversationSnapshot

log = logging.getLogger("warmdesk.llm")

MAX_ENTRIES = 3
MAX_HISTORY = 4
COMPOSED = (Decision.ANSWER, Decision.CLARIFY)  # a no_answer stays offline: there is nothing to ground a reply in
_parser = JsonOutputParser()


class GroundedAnswers:
    def __init__(
        self,
        client: LlmClient,
        lookup: Callable[[str], FaqEntry | None],
        texts: Texts,
        rules: LlmRules,
        *,
        mask: bool = True,
    ) -> None:
        self._client = client
        self._lookup = lookup
        self._texts = texts
        self._rules = rules
        self._mask = mask

    def compose(
        self,
        message: InboundMessage,
        text: str,
        language: str,
        emotion: EmotionTag,
        snapshot: ConversationSnapshot,
        retrieval,  # knowledge.base.Retrieval
        plan: PlannedReply,
    ) -> PlannedReply:
        if plan.decision not in COMPOSED:
            return plan
        entries = [entry for c in retrieval.candidates[:MAX_ENTRIES] if (entry := self._lookup(c.faq_id))]
        if not entries:
            return plan
        who = CallFor(snapshot.conversation_id, message.platform, message.message_id)
        masker = Masker(enabled=self._mask)
        confident = plan.faq_id if plan.decision == Decision.ANSWER else None
        payload = {
            "entries": [
                {
                    "id": entry.id,
                    "question": entry.title(language),
                    "answer": entry.answer_for(language),
                    "match": "strong" if entry.id == confident else "possible",
                }
                for entry in entries
            ],
            "conversation": [masker.mask(turn.text) for turn in snapshot.recent[-MAX_HISTORY:] if turn.text],
            "message": masker.mask(text),
            "emotion": {"label": emotion.label, "intensity": round(emotion.intensity, 2)},
        }
        messages = prompts.answer_messages(
            business=self._rules.business_name,
            language=language,
            emotion_label=emotion.label,
            intensity=emotion.intensity,
            payload=json.dumps(payload, ensure_ascii=False, indent=1),
        )
        completion = self._client.complete(messages, "answer", who)
        if completion is None:
            return plan
        chosen = _parse(completion.text)
        if chosen is None:
            log.warning("llm answer unreadable (not the JSON asked for): the offline reply stands")
            self._client.note_rejected("answer", who)
            return plan
        faq_id, reply = chosen
        entry = next((e for e in entries if e.id == faq_id), None)
        if faq_id is None:  # "the entries do not answer this": the existing clarify / no-answer path runs
            return plan if plan.decision == Decision.CLARIFY else no_answer(language, self._texts, plan.score)
        if entry is None:
            log.warning("llm answer cited an entry it was not given: the offline reply stands")
            self._client.note_rejected("answer", who)
            return plan
        verdict = check(reply, [entry.answer_for(language)], language, self._rules, faq=True)
        if not verdict.ok:
            log.warning(
                "llm answer failed the grounding check (%s): the FAQ answer is sent", ",".join(verdict.problems)
            )
            self._client.note_rejected("answer", who)
            return plan
        return PlannedReply(Decision.ANSWER, masker.unmask(reply).strip(), faq_id=entry.id, score=plan.score)


def _parse(text: str) -> tuple[str | None, str] | None:
    """(faq_id or None, reply) from the model's JSON; None when it is not the object asked for."""
    try:
        value = _parser.parse(text)
    except OutputParserException:
        return None
    if not isinstance(value, dict) or "faq_id" not in value:
        return None
    faq_id, reply = value.get("faq_id"), value.get("reply") or ""
    if (faq_id is not None and not isinstance(faq_id, str)) or not isinstance(reply, str):
        return None
    if faq_id is not None and not reply.strip():
        return None
    return (faq_id or None), reply
