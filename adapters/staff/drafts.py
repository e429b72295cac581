"""Pending FAQ drafts from traffic (`/staff/kb/drafts`): approve (opens the prefilled new-entry form) or reject."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import StaffAuth
from adapters.staff.kb import EDITORS, VIEWERS
from adapters.staff.pages import render
from storage.staff import StaffMember
from storage.staff_drafts import DraftRepository


def drafts_router(auth: StaffAuth, drafts: DraftRepository) -> APIRouter:
    router = APIRouter(prefix="/staff/kb/drafts", include_in_schema=False)
    Viewer = Annotated[StaffMember, Depends(auth.require(*VIEWERS))]
    Editor = Annotated[StaffMember, Depends(auth.require(*EDITORS))]

    @router.get("", response_class=HTMLResponse)
    def pending(member: Viewer, request: Request):
        auth.audit(member, "kb.drafts", "kb")
        return render(request, "kb_drafts.html", member, drafts=drafts.pending())

    @router.post("/reject")
    async def reject(member: Editor, draft_id: int = Form(ge=1, le=2**62)):
        if not await run_in_threadpool(drafts.decide, draft_id, "rejected", member.actor):
            raise HTTPException(409, "this draft is not pending any more")
        await run_in_threadpool(auth.audit, member, "kb.draft_reject", f"faq_draft:{draft_id}")
        return RedirectResponse("/staff/kb/drafts", status_code=303)

    return router
