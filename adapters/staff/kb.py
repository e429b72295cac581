"""The KB editor at /staff/kb: list and filter, edit with optimistic locking, history with diffs and rollback,
remove and restore. Import/export, "Try it" and the saved tests are in `kb_tools.py`.

Every save goes to the database (the source of truth every process re-syncs from within
WARMDESK_KB_RECHECK_SECONDS) and straight into this process's index, so "Try it" sees it at once.
"""

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import StaffAuth
from adapters.staff.entry_form import EntryForm, diff_entries
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.kb_regression import broken_by
from bot.runtime import Runtime
from storage.faqs import RevisionConflict, UnknownFaq
from storage.staff import StaffMember
from storage.staff_drafts import DraftRepository
from storage.staff_kb import KbListing, KbTests

PAGE_SIZE = 50
VIEWERS = ("editor", "manager")
EDITORS = ("editor",)


def kb_router(
    runtime: Runtime, auth: StaffAuth, listing: KbListing, tests: KbTests, drafts: DraftRepository
) -> APIRouter:
    router = APIRouter(prefix="/staff/kb", include_in_schema=False)
    faqs, knowledge = runtime.faqs, runtime.knowledge
    Viewer = Annotated[StaffMember, Depends(auth.require(*VIEWERS))]
    Editor = Annotated[StaffMember, Depends(auth.require(*EDITORS))]

    @router.get("", response_class=HTMLResponse)
    def entries(
        request: Request,
        member: Viewer,
        q: str = Query("", max_length=200),
        tag: str = Query("", max_length=80),
        missing: str = Query("", pattern="^(|zh|en)$"),
        page: int = Query(1, ge=1, le=100_000),
    ) -> HTMLResponse:
        found = listing.page(q, tag, missing, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        filters = {"q": q, "tag": tag, "missing": missing, "page": page} if q or tag or missing else None
        auth.audit(member, "kb.list", "kb", filters)
        pages = max(1, math.ceil(found.total / PAGE_SIZE))
        template = "_kb_rows.html" if request.headers.get("hx-request") else "kb_list.html"
        return render(
            request,
            template,
            member,
            found=found,
            q=q,
            tag=tag,
            missing=missing,
            page=page,
            pages=pages,
            tags=listing.tags()[:200],
            message=request.query_params.get("message", ""),
        )

    @router.get("/edit", response_class=HTMLResponse)
    def edit_form(
        member: Viewer, request: Request, id: str = Query("", max_length=80), draft: int = Query(0, ge=0, le=2**62)
    ):
        if not id:
            proposed = drafts.get(draft) if draft else None
            form = EntryForm.from_draft(proposed) if proposed else EntryForm(id="")
            return render(request, "kb_edit.html", member, form=form, new=True)
        entry = faqs.get(id)
        if entry is None:
            raise HTTPException(404, f"no entry {id!r}")
        auth.audit(member, "kb.view", f"faq:{id}")
        return render(request, "kb_edit.html", member, form=EntryForm.of(entry, faqs.revision_of(id)), new=False)

    @router.post("/edit", response_class=HTMLResponse)
    async def save(
        member: Editor,
        request: Request,
        id: str = Form(max_length=200),
        questions: str = Form("", max_length=120_000),
        answer: str = Form("", max_length=20_000),
        answer_zh: str = Form("", max_length=20_000),
        answer_en: str = Form("", max_length=20_000),
        tags: str = Form("", max_length=2_000),
        revision: int = Form(0, ge=0),
        note: str = Form("", max_length=500),
        force: bool = Form(False),
        draft_id: int = Form(0, ge=0, le=2**62),
    ):
        language = page_language(request)
        form = EntryForm(id, questions, answer, answer_zh, answer_en, tags, revision, note, draft_id=draft_id)
        new = revision == 0
        if not form.validate(language):
            return render(request, "kb_edit.html", member, form=form, new=new, status_code=422)
        entry = form.entry()
        if not force:
            broken = await run_in_threadpool(broken_by, knowledge, tests.all(), entry)
            if broken:
                return render(request, "kb_edit.html", member, form=form, new=new, broken=broken, status_code=409)
        try:
            outcome = await run_in_threadpool(faqs.save_if_unchanged, entry, revision, member.actor, note or None)
        except RevisionConflict as conflict:
            if new and conflict.current is not None:
                form.errors = [say("edit.err_exists", language, id=entry.id)]
                return render(request, "kb_edit.html", member, form=form, new=new, status_code=409)
            await run_in_threadpool(auth.audit, member, "kb.conflict", f"faq:{entry.id}", {"expected": revision})
            who = _last_author(faqs, entry.id)
            return render(
                request,
                "kb_edit.html",
                member,
                form=form,
                new=new,
                conflict=conflict,
                who=who,
                live=EntryForm.of(conflict.current, conflict.current_revision) if conflict.current else None,
                status_code=409,
            )
        await run_in_threadpool(knowledge.upsert, entry)
        if draft_id and await run_in_threadpool(drafts.decide, draft_id, "approved", member.actor, entry.id):
            await run_in_threadpool(auth.audit, member, "kb.draft_approve", f"faq_draft:{draft_id}", {"faq": entry.id})
        current = faqs.revision_of(entry.id)
        await run_in_threadpool(auth.audit, member, f"kb.{outcome}", f"faq:{entry.id}", {"revision": current})
        message = say("edit.unchanged" if outcome == "unchanged" else "edit.saved", language, revision=current)
        return render(request, "kb_edit.html", member, form=EntryForm.of(entry, current), new=False, message=message)

    @router.get("/history", response_class=HTMLResponse)
    def history(
        member: Viewer,
        request: Request,
        id: str = Query(max_length=80),
        a: int | None = Query(None, ge=1),
        b: int | None = Query(None, ge=1),
    ):
        revisions = faqs.history(id)
        if not revisions:
            raise HTTPException(404, f"no history for {id!r}")
        by_number = {info.revision: info for info in revisions}
        newest = revisions[-1].revision
        b = b if b in by_number else newest
        a = a if a in by_number else max(1, b - 1)
        diff = diff_entries(by_number[a].entry, by_number[b].entry) if a in by_number else {}
        auth.audit(member, "kb.history", f"faq:{id}", {"a": a, "b": b})
        return render(
            request,
            "kb_history.html",
            member,
            id=id,
            revisions=list(reversed(revisions)),
            a=a,
            b=b,
            diff=diff,
            live=faqs.revision_of(id),
            message=request.query_params.get("message", ""),
        )

    @router.post("/rollback")
    async def rollback(member: Editor, request: Request, id: str = Form(max_length=80), revision: int = Form(ge=1)):
        try:
            entry = await run_in_threadpool(faqs.rollback, id, revision, member.actor)
        except UnknownFaq as error:
            raise HTTPException(404, str(error)) from error
        await run_in_threadpool(knowledge.upsert, entry)
        await run_in_threadpool(auth.audit, member, "kb.rollback", f"faq:{id}", {"to": revision})
        message = say("history.rolled_back", page_language(request), id=id, revision=revision)
        return RedirectResponse(_url("/staff/kb/history", id=id, message=message), status_code=303)

    @router.post("/remove")
    async def remove(member: Editor, request: Request, id: str = Form(max_length=80)):
        try:
            await run_in_threadpool(faqs.remove, id, member.actor)
        except UnknownFaq as error:
            raise HTTPException(404, f"no entry {id!r}") from error
        await run_in_threadpool(knowledge.remove, id)
        await run_in_threadpool(auth.audit, member, "kb.remove", f"faq:{id}")
        message = say("edit.removed", page_language(request), id=id)
        return RedirectResponse(_url("/staff/kb", message=message), status_code=303)

    @router.get("/removed", response_class=HTMLResponse)
    def removed(member: Viewer, request: Request):
        auth.audit(member, "kb.removed_list", "kb")
        return render(
            request, "kb_removed.html", member, removed=faqs.removed(), message=request.query_params.get("message", "")
        )

    @router.post("/restore")
    async def restore(member: Editor, request: Request, id: str = Form(max_length=80)):
        if await run_in_threadpool(faqs.revision_of, id):
            raise HTTPException(409, f"{id} is live; nothing to restore")
        try:
            entry = await run_in_threadpool(faqs.restore, id, member.actor)
        except UnknownFaq as error:
            raise HTTPException(404, str(error)) from error
        await run_in_threadpool(knowledge.upsert, entry)
        await run_in_threadpool(auth.audit, member, "kb.restore", f"faq:{id}")
        message = say("removed.restored", page_language(request), id=id)
        return RedirectResponse(_url("/staff/kb/removed", message=message), status_code=303)

    return router


def _last_author(faqs, faq_id: str) -> str:
    history = faqs.history(faq_id)
    return history[-1].author.removeprefix("staff:") if history else "?"


def _url(path: str, **query: str) -> str:
    return f"{path}?{urlencode(query)}"
