"""The handoff summary by the LLM: the structured fields (goal, problem, what was tried, the emotion path, a first
step) in the agent's language, written beside the template summary, which stays as the fallback.

It runs in a background thread after the handoff is opened (the customer never waits for it) and again whenever
an agent asks for a fresh one; a field that states a number the conversation does not contain drops the whole
LLM part, so the agent never reads an invented order number or amount.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers import JsonOutputParser
from sqlmodel import select

from bot.handoff.summary import LLM_SUMMARY_MARK
from bot.llm import prompts
from bot.llm.client import CallFor, LlmClient
from bot.llm.grounding import LlmRules, check
from bot.llm.masking import Masker
from storage.db import Database
from storage.handoffs import HandoffRepository
from storage.models import Handoff

log = logging.getLogger("warmdesk.llm")

FIELDS = ("goal", "problem", "tried", "emotion_path", "first_step")
LABELS = {
    "en": {"title": "LLM summary", "goal": "Goal", "problem": "Problem", "tried": "Tried", "emotion_path": "Mood",
           "first_step": "First step", "template": "Template summary"},
    "zh": {"title": "AI 摘要", "goal": "诉求", "problem": "问题", "tried": "已尝试", "emotion_path": "情绪变化",
           "first_step": "第一步", "template": "模板摘要"},
}  # fmt: skip
MARK = LLM_SUMMARY_MARK
_parser = JsonOutputParser()


class LlmSummaries:
    def __init__(
        self, client: LlmClient, handoffs: HandoffRepository, db: Database, agent_language: str, rules: LlmRules
    ) -> None:
        self._client = client
        self._handoffs = handoffs
        self._db = db
        self._language = agent_language if agent_language in LABELS else "en"
        self._rules = LlmRules(business_name=rules.business_name, promises_en=[], promises_zh=[])  # numbers only
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-summary")
        self.written: list[Callable[[int], object]] = []  # told the handoff id once fields are stored (Slack's card)

    def refresh_soon(self, handoff_id: int) -> Future:
        return self._worker.submit(self.refresh, handoff_id)

    def flush(self) -> None:
        """Wait for the summaries asked for so far (tests, shutdown)."""
        self._worker.submit(lambda: None).result()

    def refresh(self, handoff_id: int) -> dict[str, str] | None:
        """Write the LLM fields above the template summary; None (and the template alone) when that fails."""
        handoff = self._handoffs.get(handoff_id)
        if handoff is None:
            return None
        lines = [m for m in self._handoffs.transcript(handoff.conversation_id, limit=40) if m.text]
        masker = Masker(enabled=self._client.settings.llm_mask_personal_data)
        payload = {
            "transcript": [{"direction": m.direction, "text": masker.mask(m.shown_text)} for m in lines],
            "emotions": [m.emotion_label or "neutral" for m in lines if m.direction == "in"],
            "reason": handoff.reason,
        }
        messages = prompts.summary_messages(
            agent_language=self._language, payload=json.dumps(payload, ensure_ascii=False)
        )
        completion = self._client.complete(messages, "summary", CallFor(handoff.conversation_id))
        fields = _fields(completion.text) if completion else None
        if fields is None:
            return None
        said = "\n".join(m.shown_text for m in lines) + "\n" + handoff.reason
        if not check(" ".join(fields.values()), [masker.mask(said)], self._language, self._rules).ok:
            log.warning("llm summary dropped: it states something the conversation does not")
            self._client.note_rejected("summary", CallFor(handoff.conversation_id))
            return None
        fields = {key: masker.unmask(value) for key, value in fields.items()}
        self._store(handoff_id, fields)
        for listener in self.written:
            try:
                listener(handoff_id)
            except Exception as error:  # a desk that cannot show it keeps the template; the summary is stored
                log.warning("llm summary listener failed: %s", type(error).__name__)
        return fields

    def _store(self, handoff_id: int, fields: dict[str, str]) -> None:
        labels = LABELS[self._language]
        text = "\n".join([labels["title"], *(f"{labels[key]}: {fields[key]}" for key in FIELDS)])
        with self._db.session() as session:
            handoff = session.exec(select(Handoff).where(Handoff.id == handoff_id)).first()
            if handoff is None:
                return
            template = (handoff.summary or "").split(MARK, 1)[-1]
            handoff.summary = text + MARK + template
            session.add(handoff)


def _fields(text: str) -> dict[str, str] | None:
    try:
        value = _parser.parse(text)
    except OutputParserException:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(key), str) for key in FIELDS):
        return None
    return {key: value[key].strip() for key in FIELDS}
