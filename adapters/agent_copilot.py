"""The copilot's JSON endpoints on the agent console API (LLM mode only; README "Agent copilot"):

    POST /agent/api/handoffs/{id}/suggest          → {"draft", "language", "faq_ids", "warnings"}: never sent
    POST /agent/api/handoffs/{id}/summary          → {"fields", "summary"}: the LLM summary written afresh
    POST /agent/api/handoffs/{id}/translate        {"target_language"} → the customer's messages with translations
    POST /agent/api/handoffs/{id}/translate-reply  {"text"} → the agent's text in the customer's language

Same sign-in as the console (the `agent` dependency it hands in); every call is audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from bot.language import detect_language
from bot.llm.copilot import Copilot
from bot.llm.summary import LlmSummaries
from storage.customers import CustomerRepository
from storage.handoffs import HandoffRepository

HandoffId = Annotated[int, Path(ge=1, le=2**63 - 1)]
UNAVAILABLE = "the LLM is unavailable right now (down, over budget or too slow); try again or write the reply yourself"


class TranslateBody(BaseModel):
    target_language: str = Field(pattern=r"^(zh|en)$")


class TranslateReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


def copilot_routes(
    copilot: Copilot, handoffs: HandoffRepository, customers: CustomerRepository, summaries: LlmSummaries
) -> Callable[[APIRouter, Callable], None]:
    def add(router: APIRouter, agent: Callable) -> None:
        def handoff_or_404(handoff_id: int):
            handoff = handoffs.get(handoff_id)
            if handoff is None:
                raise HTTPException(404, "no such handoff (the customer may have deleted their data)")
            return handoff

        async def audited(handoff_id: int, who: str, action: str, work: Callable[[int], Any]) -> Any:
            """`work(handoff_id)` in a thread, audited; None from it (no LLM) is a 503."""
            handoff_or_404(handoff_id)
            result = await asyncio.to_thread(work, handoff_id)
            customers.audit(who, action, f"handoff:{handoff_id}")
            if result is None:
                raise HTTPException(503, UNAVAILABLE)
            return result

        @router.post("/agent/api/handoffs/{handoff_id}/suggest")
        async def suggest(handoff_id: HandoffId, who: str = Depends(agent)) -> dict[str, object]:
            draft = await audited(handoff_id, who, "copilot.suggest", copilot.suggest)
            return {
                "draft": draft.text,
                "language": draft.language,
                "faq_ids": draft.faq_ids,
                "warnings": draft.warnings,
                "sent": False,
            }

        @router.post("/agent/api/handoffs/{handoff_id}/summary")
        async def summary(handoff_id: HandoffId, who: str = Depends(agent)) -> dict[str, object]:
            fields = await audited(handoff_id, who, "copilot.summary", summaries.refresh)
            return {"fields": fields, "summary": handoffs.get(handoff_id).summary}

        @router.post("/agent/api/handoffs/{handoff_id}/translate")
        async def translate(handoff_id: HandoffId, body: TranslateBody, who: str = Depends(agent)):
            handoff = handoff_or_404(handoff_id)
            lines = [m for m in handoffs.transcript(handoff.conversation_id, limit=40) if m.text]
            result = []
            for m in lines:
                source = m.language or detect_language(m.text, body.target_language)
                translation = None
                if m.direction == "in" and source != body.target_language:
                    translation = await asyncio.to_thread(
                        copilot.translate, m.text, body.target_language, handoff.conversation_id
                    )
                result.append({"id": m.id, "direction": m.direction, "text": m.text, "translation": translation})
            customers.audit(who, "copilot.translate", f"handoff:{handoff_id}", {"to": body.target_language})
            return {"target_language": body.target_language, "messages": result}

        @router.post("/agent/api/handoffs/{handoff_id}/translate-reply")
        async def translate_reply(handoff_id: HandoffId, body: TranslateReplyBody, who: str = Depends(agent)):
            handoff = handoff_or_404(handoff_id)
            said = [m for m in handoffs.transcript(handoff.conversation_id, limit=40) if m.direction == "in"]
            language = next((m.language for m in reversed(said) if m.language), None) or "en"
            if detect_language(body.text, language) == language:
                return {"text": body.text, "original": body.text, "language": language, "translated": False}
            text = await asyncio.to_thread(copilot.translate, body.text, language, handoff.conversation_id)
            if text is None:
                raise HTTPException(503, UNAVAILABLE)
            # the original stays on record beside what the customer will be sent
            customers.audit(who, "copilot.translate_reply", f"handoff:{handoff_id}", {"original": body.text})
            return {"text": text, "original": body.text, "language": language, "translated": True}

    return add
