"""The web agent console at /agent: a queue of handoffs with summaries; claim, reply, resolve, ask for help.

Works with no Slack at all. People sign in once at the staff app (/staff/login) with an account holding the
agent or admin role (`run.py staff add`); scripts send `Authorization: Bearer $WARMDESK_AGENT_TOKEN` with
`X-Agent-Name`. A signed-in browser's state-changing request must come from the app's own origin.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from adapters.agent_console_views import HELP_DESKS, actions, plain, queue_item, transcript_line
from adapters.staff.auth import SAFE_METHODS, StaffAuth
from adapters.staff.pages import login_page, page_language, render
from adapters.staff.texts import say
from bot.handoff.agent_texts import agent_say
from bot.handoff.desk import QuietDesk, Ticket
from bot.handoff.service import ActionResult, HandoffService, Outcome, ResolveOutcome
from bot.handoff.summary import LLM_SUMMARY_MARK
from storage.db import MAX_ROW_ID, off_loop
from storage.handoff_queue import briefing, handoff_queue
from storage.handoffs import HandoffRepository, HandoffStatus

DESK = "console"
CONSOLE_ROLES = ("agent",)  # and admin, who holds every role
PAGE = Path(__file__).parent / "web" / "agent.html"
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


def console_agent(staff: StaffAuth) -> Callable[[Request], str]:
    """The console's sign-in dependency: `console:<name>` of a signed-in agent (or admin, or a Bearer script);
    401 for nobody, 403 (audited) for another role or a cross-site request. The care endpoints use it too."""

    def agent(request: Request) -> str:
        member = staff.member(request)
        if member is None:
            raise HTTPException(status_code=401, detail="sign in at /staff/login, or send Authorization: Bearer")
        if member.name == "":
            raise HTTPException(status_code=400, detail="X-Agent-Name: 1 to 40 letters, digits, spaces or . @ - _")
        if request.method not in SAFE_METHODS and not member.via_token and not staff.same_origin(request):
            staff.audit(member, "staff.cross_site_refused", request.url.path)
            raise HTTPException(status_code=403, detail="cross-site request refused: use the console's own page")
        if not member.has_any(CONSOLE_ROLES):
            staff.audit(member, "staff.forbidden", request.url.path, {"method": request.method})
            raise HTTPException(status_code=403, detail="the console needs the agent role")
        return f"{DESK}:{member.name}"

    return agent


def agent_console_router(
    service: HandoffService, staff: StaffAuth, extra_routes: Callable[[APIRouter, Callable], None] | None = None
) -> APIRouter:
    """`extra_routes(router, agent)` adds routes behind the same sign-in (the LLM copilot's)."""
    router = APIRouter()
    page = PAGE.read_text(encoding="utf-8")
    repository = service.repository

    signed_in_agent = console_agent(staff)

    def agent(request: Request) -> str:
        who = signed_in_agent(request)
        service.availability.agent_seen(who)  # someone can take handoffs now
        return who

    @router.get("/agent", response_class=HTMLResponse, include_in_schema=False)
    def console_page(request: Request) -> HTMLResponse:
        member = staff.member(request)
        if member is None:
            return login_page(request, "/agent", say("login.expired", page_language(request)), 401)
        if not member.has_any(CONSOLE_ROLES):
            staff.audit(member, "staff.forbidden", "/agent", {"method": "GET"})
            return render(request, "forbidden.html", member, 403)
        staff.audit(member, "staff.view", "/agent")
        return HTMLResponse(page)

    @router.get("/agent/login", include_in_schema=False)
    async def login() -> RedirectResponse:
        return RedirectResponse("/staff/login?next=/agent", status_code=303)

    @router.get("/agent/api/me")
    async def me(who: str = Depends(agent)) -> dict[str, object]:
        # `copilot`: the LLM copilot's routes are mounted (LLM mode); the page shows its buttons only then
        return {"agent": who, "copilot": extra_routes is not None}

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
            llm_part, mark, _ = (handoff.summary or "").partition(LLM_SUMMARY_MARK)
            summary = llm_part + mark + summary if mark else summary  # LLM mode: its fields stay on top
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
