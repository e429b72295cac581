"""The web agent console at /agent: a queue of handoffs with summaries; claim, reply, resolve, ask for help.

Works with no Slack at all. Every request needs WARMDESK_AGENT_TOKEN, either once at the login form (which
sets a signed, HttpOnly cookie naming the agent) or as `Authorization: Bearer <token>` with `X-Agent-Name`.
Without a configured token the console refuses everything.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from adapters.agent_console_views import HELP_DESKS, actions, plain, queue_item, transcript_line
from bot.handoff.agent_texts import agent_say
from bot.handoff.desk import QuietDesk, Ticket
from bot.handoff.service import ActionResult, HandoffService, Outcome, ResolveOutcome
from storage.db import MAX_ROW_ID, off_loop
from storage.handoff_queue import briefing, handoff_queue
from storage.handoffs import HandoffRepository, HandoffStatus

DESK = "console"
COOKIE = "warmdesk_agent"
PAGE = Path(__file__).parent / "web" / "agent.html"
NAME_PATTERN = r"^[\w .@-]{1,40}$"
HandoffId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]
STATUS_FOR = {
    Outcome.MISSING: 404,
    Outcome.CUSTOMER_GONE: 410,
    Outcome.CLOSED: 409,
    Outcome.ALREADY_CLAIMED: 409,
    Outcome.NOT_CLAIMED: 409,
    Outcome.NOT_OWNER: 409,
    Outcome.EMPTY: 422,
    Outcome.TOO_LONG: 422,
}
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Warmdesk agents</title>
<style>body{{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto}}input,button{{font:inherit;
width:100%;margin:.3rem 0;padding:.5rem}}.error{{color:#b91c1c}}</style></head><body>
<h1>Warmdesk agents</h1><p class="error">{error}</p>
<form method="post" action="/agent/login"><label>Your name <input name="name" id="name" required></label>
<label>Agent token <input name="token" id="token" type="password" required></label>
<button type="submit" id="login">Sign in</button></form></body></html>"""


class ConsoleDesk(QuietDesk):
    """The console reads its queue from the database; it only records that it shows each handoff."""

    name = DESK

    def __init__(self, repository: HandoffRepository) -> None:
        self._repository = repository

    async def handoff_started(self, ticket: Ticket) -> None:
        self._repository.save_thread(ticket.handoff_id, DESK, DESK, str(ticket.handoff_id))


MAX_REPLY_BODY_CHARS = 100_000  # the service refuses replies over its own limit with a message the page shows
TRANSCRIPT_LINES = 200


class ReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_REPLY_BODY_CHARS)
    client_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class ResolveBody(BaseModel):
    outcome: str = Field(default=ResolveOutcome.RESOLVED, pattern=r"^(resolved|returned_to_bot)$")


def agent_console_router(
    service: HandoffService, token: str | None, extra_routes: Callable[[APIRouter, Callable], None] | None = None
) -> APIRouter:
    """`extra_routes(router, agent)` adds routes behind the same sign-in (the LLM copilot's)."""
    router = APIRouter()
    page = PAGE.read_text(encoding="utf-8")
    repository = service.repository

    def signature(name: str) -> str:
        return hmac.new((token or "").encode(), f"agent:{name}".encode(), hashlib.sha256).hexdigest()

    def signed_in_agent(request: Request) -> str | None:
        if not token:
            return None
        bearer = request.headers.get("authorization", "")
        if bearer.startswith("Bearer ") and hmac.compare_digest(
            bearer.removeprefix("Bearer ").encode(), token.encode()
        ):
            return _header_name(request.headers.get("x-agent-name"))
        name, _, signed = request.cookies.get(COOKIE, "").rpartition("|")
        if name and hmac.compare_digest(signed, signature(name)):
            return name
        return None

    def agent(request: Request) -> str:
        name = signed_in_agent(request)
        if name == "":
            raise HTTPException(status_code=400, detail="X-Agent-Name: 1 to 40 letters, digits, spaces or . @ - _")
        if name is None:
            detail = "the agent console is off: set WARMDESK_AGENT_TOKEN" if not token else "sign in at /agent"
            raise HTTPException(status_code=401 if token else 503, detail=detail)
        service.availability.agent_seen(f"{DESK}:{name}")  # someone can take handoffs now
        return f"{DESK}:{name}"

    @router.get("/agent", response_class=HTMLResponse, include_in_schema=False)
    async def console_page(request: Request) -> HTMLResponse:
        if not token:
            return HTMLResponse(LOGIN_PAGE.format(error="The console is off: set WARMDESK_AGENT_TOKEN."), 503)
        if signed_in_agent(request) is None:
            return HTMLResponse(LOGIN_PAGE.format(error=""), 401)
        return HTMLResponse(page)

    @router.post("/agent/login", include_in_schema=False)
    async def login(name: str = Form(pattern=NAME_PATTERN), token_given: str = Form(alias="token")):
        if not token or not hmac.compare_digest(token_given.encode(), token.encode()):
            return HTMLResponse(LOGIN_PAGE.format(error=html.escape("Wrong token.")), 401)
        response = RedirectResponse("/agent", status_code=303)
        response.set_cookie(COOKIE, f"{name}|{signature(name)}", httponly=True, samesite="strict", path="/agent")
        return response

    @router.get("/agent/api/me")
    async def me(who: str = Depends(agent)) -> dict[str, str]:
        return {"agent": who}

    @router.get("/agent/api/handoffs")
    async def queue(
        who: str = Depends(agent), tab: str | None = Query(default=None, pattern=r"^(open|resolved)$")
    ) -> dict[str, object]:
        """Without `tab`: open handoffs oldest first, then recently closed ones (what scripts diff for new ids)."""
        now = service.clock()
        rows = await off_loop(handoff_queue, repository.database, tab)
        return {"agent": who, "tab": tab, "handoffs": [queue_item(row, now) for row in rows]}

    @router.get("/agent/api/handoffs/{handoff_id}")
    async def detail(handoff_id: HandoffId, who: str = Depends(agent)) -> dict[str, object]:
        handoff = await off_loop(repository.get, handoff_id)
        if handoff is None:
            raise HTTPException(404, "no such handoff (the customer may have deleted their data)")
        summary = handoff.summary
        if handoff.status != HandoffStatus.RESOLVED and (
            now := await off_loop(briefing, repository.database, handoff_id)
        ):
            summary = await off_loop(service.live_summary, now)  # follows the conversation after the handoff opened
        transcript = await off_loop(repository.transcript, handoff.conversation_id, limit=TRANSCRIPT_LINES)
        language = service.settings.agent_language
        return {
            **plain(handoff),
            "summary": summary,
            "transcript": [transcript_line(m) for m in transcript],
            "actions": actions(handoff, who, service.desks.names, language),
        }

    @router.post("/agent/api/handoffs/{handoff_id}/claim")
    async def claim(handoff_id: HandoffId, who: str = Depends(agent)) -> JSONResponse:
        return _answer(await service.claim(handoff_id, who, DESK))

    @router.post("/agent/api/handoffs/{handoff_id}/take-over")
    async def take_over(handoff_id: HandoffId, who: str = Depends(agent)) -> JSONResponse:
        return _answer(await service.claim(handoff_id, who, DESK, take_over=True))

    @router.post("/agent/api/handoffs/{handoff_id}/reply")
    async def reply(handoff_id: HandoffId, body: ReplyBody, who: str = Depends(agent)) -> JSONResponse:
        return _answer(await service.reply(handoff_id, who, body.text, DESK, body.client_id))

    @router.post("/agent/api/handoffs/{handoff_id}/resolve")
    async def resolve(handoff_id: HandoffId, body: ResolveBody, who: str = Depends(agent)) -> JSONResponse:
        return _answer(await service.resolve(handoff_id, who, DESK, body.outcome))

    @router.post("/agent/api/handoffs/{handoff_id}/help")
    async def ask_for_help(handoff_id: HandoffId, who: str = Depends(agent)) -> JSONResponse:
        if not HELP_DESKS & set(service.desks.names):  # nobody would see the request: say so, do not pretend
            message = agent_say("action.no_help_desk", service.settings.agent_language)
            return JSONResponse({"ok": False, "outcome": "no_help_desk", "message": message}, status_code=409)
        return _answer(await service.ask_for_help(handoff_id, who))

    if extra_routes is not None:
        extra_routes(router, agent)
    return router


def _answer(result: ActionResult) -> JSONResponse:
    body = {"ok": result.ok, "outcome": result.outcome.value, "message": result.message}
    if result.handoff is not None:
        body["handoff"] = plain(result.handoff)
    return JSONResponse(body, status_code=200 if result.ok else STATUS_FOR.get(result.outcome, 400))


def _header_name(raw: str | None) -> str:
    """The agent name a Bearer client sends in X-Agent-Name ("token" when it sends none), held to the login
    form's rule; "" when it breaks it. HTTP headers arrive as Latin-1, so UTF-8 names are decoded again."""
    if raw is None:
        return "token"
    try:
        name = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return ""
    return name if re.fullmatch(NAME_PATTERN, name) else ""
