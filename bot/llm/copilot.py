"""The agent copilot: a suggested reply drafted from the knowledge base and the conversation (the agent edits it;
nothing is ever sent by itself), and translation both ways for bilingual teams. Every method returns None when
the LLM is unavailable: the console then simply has no draft or translation to show."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.language import detect_language
from bot.llm import prompts
from bot.llm.client import CallFor, LlmClient
from bot.llm.grounding import LlmRules, check
from bot.llm.masking import Masker
from storage.handoffs import HandoffRepository

MAX_ENTRIES = 3
TRANSCRIPT_LINES = 12


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    language: str
    faq_ids: list[str]
    warnings: list[str] = field(default_factory=list)  # grounding problems the agent should look at before sending


class Copilot:
    def __init__(self, client: LlmClient, knowledge, embedder, handoffs: HandoffRepository, rules: LlmRules) -> None:
        self._client = client
        self._knowledge = knowledge
        self._embedder = embedder
        self._handoffs = handoffs
        self._rules = rules
        self._mask = client.settings.llm_mask_personal_data

    def suggest(self, handoff_id: int) -> Draft | None:
        handoff = self._handoffs.get(handoff_id)
        if handoff is None:
            raise LookupError(handoff_id)
        lines = self._handoffs.transcript(handoff.conversation_id, limit=TRANSCRIPT_LINES)
        said = [m for m in lines if m.direction == "in" and m.text]
        if not said:
            return None
        last = said[-1]
        language = last.language or detect_language(last.text, "en")
        retrieval = self._knowledge.search(last.text, self._embedder.query(last.text))
        entries = [e for c in retrieval.candidates[:MAX_ENTRIES] if (e := self._knowledge.entry(c.faq_id))]
        masker = Masker(enabled=self._mask)
        payload = {
            "entries": [{"id": e.id, "question": e.title(language), "answer": e.answer_for(language)} for e in entries],
            "transcript": [{"direction": m.direction, "text": masker.mask(m.text)} for m in lines if m.text],
            "summary": masker.mask(handoff.summary or ""),
        }
        messages = prompts.suggest_messages(language=language, payload=json.dumps(payload, ensure_ascii=False))
        completion = self._client.complete(messages, "suggest", CallFor(handoff.conversation_id))
        if completion is None or not completion.text.strip():
            return None
        verdict = check(completion.text, [e.answer_for(language) for e in entries], language, self._rules, faq=True)
        return Draft(masker.unmask(completion.text.strip()), language, [e.id for e in entries], list(verdict.problems))

    def translate(self, text: str, target_language: str, conversation_id: int | None = None) -> str | None:
        if not text.strip():
            return ""
        masker = Masker(enabled=self._mask)
        messages = prompts.translate_messages(target_language=target_language, text=masker.mask(text))
        completion = self._client.complete(messages, "translate", CallFor(conversation_id))
        if completion is None or not completion.text.strip():
            return None
        return masker.unmask(completion.text.strip())
