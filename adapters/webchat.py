"""Web chat: a page served by the app and a small JSON API, translated to and from the engine's messages.

`POST /api/chat` sends a message and returns the bot's replies; `GET /api/chat/updates` returns what arrived
later (a person's replies, the rating request) with the conversation's state; `GET /api/chat/history` returns
the conversation so far, so a reloaded or returning page shows it again. The session id is the page's
random bearer secret (kept in localStorage): whoever holds it reads that chat, nobody else.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from adapters.webchat_mailbox import WebChatMailbox
from bot.deadline import within
from bot.engine import Engine
from bot.handoff.speakers import CUSTOMER, customer_facing_name, speaker
from bot.messages import InboundMessage
from bot.texts import Texts
from storage.db import MAX_ROW_ID, off_loop

PLATFORM = "web"
PAGE = Path(__file__).parent / "web" / "chat.html"
MAX_TEXT_CHARS = 10_000
SESSION_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
LANGUAGES = ("zh", "en")
# The page's own words, from the business file's texts (the page fills them in).
CHROME_KEYS = (
    "chat_title",
    "chat_placeholder",
    "chat_send",
    "chat_waiting",
    "chat_with_agent",
    "chat_with_team",
    "chat_sent_to_team",
    "chat_too_long",
    "chat_send_failed",
)


class ChatRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_PATTERN)
    message_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    choice_id: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, pattern=r"^(zh|en)$")


class ChoiceOut(BaseModel):
    id: str
    label: str


class ReplyOut(BaseModel):
    text: str
    kind: str
    choices: list[ChoiceOut] = []
    faq_id: str | None = None  # only on replies of kind "answer": the entry the answer came from (composed or not)


class ChatResponse(BaseModel):
    replies: list[ReplyOut]
    language: str
    duplicate: bool = False


class UpdatesResponse(BaseModel):
    replies: list[ReplyOut]
    cursor: int
    state: str  # bot | waiting_agent | agent
    agent_name: str | None = None  # the person with the customer, as the customer may read it


class HistoryLineOut(BaseModel):
    id: int
    role: str  # customer | bot | agent | system
    kind: str | None  # the engine's decision for bot lines (answer, clarify, handoff...)
    text: str
    at: datetime


class HistoryResponse(BaseModel):
    lines: list[HistoryLineOut]
    language: str
    state: str
    agent_name: str | None = None
    cursor: int  # pass as `after` to /api/chat/updates
    texts: dict[str, str]
    max_chars: int = MAX_TEXT_CHARS


def chrome(texts: Texts, language: str) -> dict[str, str]:
    return {key: texts.say(key, language) for key in CHROME_KEYS}


def webchat_router(
    engine: Engine, mailbox: WebChatMailbox | None = None, *, deadline: float | None = None
) -> APIRouter:
    """`deadline`: seconds a message may take before the caller gets 503 (a locked or hung database)."""
    router = APIRouter()
    page = PAGE.read_text(encoding="utf-8")

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page() -> str:
        return page

    @router.get("/api/chat/welcome")
    async def welcome(language: str = "en") -> dict[str, object]:
        language = language if language in LANGUAGES else "en"
        return {
            "text": engine.welcome(language),
            "language": language,
            "texts": chrome(engine.texts, language),
            "max_chars": MAX_TEXT_CHARS,
        }

    @router.post("/api/chat", response_model=ChatResponse, response_model_exclude_none=True)
    async def chat(body: ChatRequest) -> ChatResponse:
        reply = await within(
            deadline,
            engine.handle(
                InboundMessage(
                    platform=PLATFORM,
                    platform_user_id=body.session_id,
                    chat_id=body.session_id,
                    message_id=body.message_id,
                    text=body.text,
                    choice_id=body.choice_id,
                    language_hint=body.language,
                )
            ),
        )
        return ChatResponse(
            replies=[
                ReplyOut(
                    text=r.text,
                    kind=r.kind,
                    choices=[ChoiceOut(id=c.id, label=c.label) for c in r.choices],
                    faq_id=reply.faq_id if r.kind == "answer" else None,
                )
                for r in reply.replies
            ],
            language=reply.language,
            duplicate=reply.duplicate,
        )

    if mailbox is not None:

        @router.get("/api/chat/updates", response_model=UpdatesResponse, response_model_exclude_none=True)
        async def updates(
            session_id: str = Query(pattern=SESSION_PATTERN), after: int = Query(default=0, ge=0, le=MAX_ROW_ID)
        ) -> UpdatesResponse:
            rows = await off_loop(mailbox.updates, session_id, after)
            state, agent = await off_loop(mailbox.state, session_id)
            return UpdatesResponse(
                replies=[
                    ReplyOut(text=row.text, kind=row.kind, choices=[ChoiceOut(**c) for c in row.choices or []])
                    for row in rows
                ],
                cursor=rows[-1].id if rows else after,
                state=state,
                agent_name=customer_facing_name(agent),
            )

        @router.get("/api/chat/history", response_model=HistoryResponse)
        async def history(
            session_id: str = Query(pattern=SESSION_PATTERN),
            language: str | None = Query(default=None, pattern=r"^(zh|en)$"),
        ) -> HistoryResponse:
            """The conversation so far; an unknown session is a new chat (no lines), not an error."""
            found = await off_loop(mailbox.history, session_id)
            shown_language = (found.language if found else None) or language or "en"
            shown_language = shown_language if shown_language in LANGUAGES else "en"
            return HistoryResponse(
                lines=[
                    HistoryLineOut(
                        id=line.id,
                        role=(role := speaker(line.direction, line.decision)),
                        kind=None if role == CUSTOMER else line.decision,
                        text=line.text,
                        at=line.created_at,
                    )
                    for line in (found.lines if found else [])
                ],
                language=shown_language,
                state=found.state if found else "bot",
                agent_name=customer_facing_name(found.agent) if found else None,
                cursor=found.cursor if found else 0,
                texts=chrome(engine.texts, shown_language),
            )

    return router
