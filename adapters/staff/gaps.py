"""The gap queue (`/staff/kb/gaps`): questions the knowledge base could not answer, grouped by meaning and ranked by
frustration (bot/kb_gaps.py). An editor attaches a group's phrasing to an existing entry (a pending wording draft),
writes a new entry for it (a pending entry draft), or dismisses it. Drafts are approved on the drafts page or in
Slack; nothing reaches customers before that."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import StaffAuth
from adapters.staff.kb import EDITORS, VIEWERS
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.kb_gaps import GapQueue
from storage.faqs import FaqRepository
from storage.staff import StaffMember
from storage.staff_drafts import DraftRepository

MAX_IDS = 5000
PAGE_CLUSTERS = 20


def gaps_router(auth: StaffAuth, gaps: GapQueue, drafts: DraftRepository, faqs: FaqRepository, notify) -> APIRouter:
    """`notify(draft)` tells the editors' channel about a new pending draft (a no-op without Slack)."""
    router = APIRouter(prefix="/staff/kb/gaps", include_in_schema=False)
    Viewer = Annotated[StaffMember, Depends(auth.require(*VIEWERS))]
    Editor = Annotated[StaffMember, Depends(auth.require(*EDITORS))]

    @router.get("", response_class=HTMLResponse)
    async def queue(member: Viewer, request: Request):
        clusters = await run_in_threadpool(gaps.clusters, None, PAGE_CLUSTERS)
        await run_in_threadpool(auth.audit, member, "kb.gaps", "kb", {"groups": len(clusters)})
        return render(
            request, "kb_gaps.html", member, clusters=clusters, message=request.query_params.get("message", "")
        )

    @router.post("/attach")
    async def attach(
        member: Editor,
        request: Request,
        ids: str = Form(max_length=80_000),
        phrasing: str = Form(min_length=1, max_length=500),
        faq_id: str = Form(min_length=1, max_length=80),
        language: str = Form("en", pattern="^(en|zh)$"),
    ):
        lang = page_language(request)
        message_ids = _ids(ids)
        if await run_in_threadpool(faqs.get, faq_id.strip()) is None:
            raise HTTPException(422, say("gaps.unknown_entry", lang, id=faq_id))
        draft = await run_in_threadpool(drafts.propose_question, phrasing, faq_id.strip(), language, "gap")
        await run_in_threadpool(gaps.log.decide, message_ids, "attached", member.actor, faq_id.strip())
        detail = {"faq": faq_id.strip(), "questions": len(message_ids), "draft": draft.id if draft else None}
        await run_in_threadpool(auth.audit, member, "kb.gap_attach", f"faq:{faq_id.strip()}", detail)
        if draft is not None and draft.count == 1:
            await run_in_threadpool(notify, draft)
        text = say("gaps.attached" if draft else "gaps.already_there", lang, id=faq_id.strip())
        return _back(text)

    @router.post("/new")
    async def new_entry(
        member: Editor,
        request: Request,
        ids: str = Form(max_length=80_000),
        phrasing: str = Form(min_length=1, max_length=500),
        answer: str = Form(min_length=1, max_length=4000),
        language: str = Form("en", pattern="^(en|zh)$"),
    ):
        message_ids = _ids(ids)
        draft = await run_in_threadpool(drafts.propose, phrasing, answer, language, "gap")
        await run_in_threadpool(gaps.log.decide, message_ids, "drafted", member.actor)
        detail = {"questions": len(message_ids), "draft": draft.id if draft else None}
        await run_in_threadpool(auth.audit, member, "kb.gap_new_entry", "kb", detail)
        if draft is not None and draft.count == 1:
            await run_in_threadpool(notify, draft)
        return _back(say("gaps.drafted" if draft else "gaps.already_there_any", page_language(request)))

    @router.post("/dismiss")
    async def dismiss(member: Editor, request: Request, ids: str = Form(max_length=80_000)):
        message_ids = _ids(ids)
        taken = await run_in_threadpool(gaps.log.decide, message_ids, "dismissed", member.actor)
        await run_in_threadpool(auth.audit, member, "kb.gap_dismiss", "kb", {"questions": taken})
        return _back(say("gaps.dismissed", page_language(request), count=taken))

    return router


def _ids(raw: str) -> list[int]:
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as error:
        raise HTTPException(422, "ids: comma-separated message numbers") from error
    if not ids or len(ids) > MAX_IDS or min(ids) < 1:
        raise HTTPException(422, f"ids: 1 to {MAX_IDS} message numbers")
    return ids


def _back(message: str) -> RedirectResponse:
    return RedirectResponse(f"/staff/kb/gaps?{urlencode({'message': message})}", status_code=303)
