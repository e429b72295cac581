"""Pending FAQ drafts from traffic (`/staff/kb/drafts`): a new wording of an entry is approved in one click; a new
entry opens the prefilled new-entry form (add the other language) and is approved when saved; Reject drops either."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import StaffAuth
from adapters.staff.kb import EDITORS, VIEWERS
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.draft_approval import DraftApproval
from storage.staff import StaffMember


def drafts_router(auth: StaffAuth, approval: DraftApproval) -> APIRouter:
    router = APIRouter(prefix="/staff/kb/drafts", include_in_schema=False)
    drafts = approval.drafts
    Viewer = Annotated[StaffMember, Depends(auth.require(*VIEWERS))]
    Editor = Annotated[StaffMember, Depends(auth.require(*EDITORS))]

    @router.get("", response_class=HTMLResponse)
    def pending(member: Viewer, request: Request):
        auth.audit(member, "kb.drafts", "kb")
        return render(
            request, "kb_drafts.html", member, drafts=drafts.pending(), message=request.query_params.get("message", "")
        )

    @router.post("/approve")
    async def approve(member: Editor, request: Request, draft_id: int = Form(ge=1, le=2**62)):
        draft = await run_in_threadpool(drafts.get, draft_id)
        if draft is None or draft.status != "pending":
            raise HTTPException(409, "this draft is not pending any more")
        if draft.kind != "question":  # a new entry needs its answer checked in the form first
            return RedirectResponse(f"/staff/kb/edit?draft={draft_id}", status_code=303)
        decided = await run_in_threadpool(approval.approve, draft_id, member.actor)
        if not decided.ok:
            raise HTTPException(409, f"not approved: {decided.problem}")
        await run_in_threadpool(
            auth.audit, member, "kb.draft_approve", f"faq_draft:{draft_id}", {"faq": decided.faq_id}
        )
        message = say("drafts.approved", page_language(request), question=draft.question, id=decided.faq_id)
        return RedirectResponse(f"/staff/kb/drafts?{_query(message)}", status_code=303)

    @router.post("/reject")
    async def reject(member: Editor, draft_id: int = Form(ge=1, le=2**62)):
        if not (await run_in_threadpool(approval.reject, draft_id, member.actor)).ok:
            raise HTTPException(409, "this draft is not pending any more")
        await run_in_threadpool(auth.audit, member, "kb.draft_reject", f"faq_draft:{draft_id}")
        return RedirectResponse("/staff/kb/drafts", status_code=303)

    return router


def _query(message: str) -> str:
    return urlencode({"message": message})
