"""Web chat: a page served by the app and a small JSON API, translated to and from the engine's messages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from adapters.webchat_mailbox import WebChatMailbox
from bot.deadline import within
from bot.engine import Engine
from bot.messages import InboundMessage
from storage.db import MAX_ROW_ID, off_loop

PLATFORM = "web"
PAGE = Path(__file__).parent / "web" / "chat.html"
MAX_TEXT_CHARS = 10_000


class ChatRequest(BaseModel):
    session_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
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


class ChatResponse(BaseModel):
    replies: list[ReplyOut]
    language: str
    duplicate: bool = False


class UpdatesResponse(BaseModel):
    replies: list[ReplyOut]
    cursor: int


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
    async def welcome(language: str = "en") -> dict[str, str]:
        language = language if language in ("zh", "en") else "en"
        return {"text": engine.welcome(language), "language": language}

    @router.post("/api/chat", response_model=ChatResponse)
    async def chat(body: ChatRequest, request: Request) -> ChatResponse:
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
                ReplyOut(text=r.text, kind=r.kind, choices=[ChoiceOut(id=c.id, label=c.label) for c in r.choices])
                for r in reply.replies
            ],
            language=reply.language,
            duplicate=reply.duplicate,
        )

    if mailbox is not None:

        @router.get("/api/chat/updates", response_model=UpdatesResponse)
        async def updates(
            session_id: str = Query(pattern=r"^[A-Za-z0-9_-]{8,64}$"),
            after: int = Query(default=0, ge=0, le=MAX_ROW_ID),
        ) -> UpdatesResponse:
            rows = await off_loop(mailbox.updates, session_id, after)
            return UpdatesResponse(
                replies=[
                    ReplyOut(text=row.text, kind=row.kind, choices=[ChoiceOut(**c) for c in row.choices or []])
                    for row in rows
                ],
                cursor=rows[-1].id if rows else after,
            )

    return router
