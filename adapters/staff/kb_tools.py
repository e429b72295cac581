"""KB editor tools: upload import with the CLI's validation report, export, "Try it", and the saved tests."""

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import StaffAuth
from adapters.staff.kb import EDITORS, VIEWERS
from adapters.staff.kb_import import ImportJobs
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.kb_regression import run_tests
from bot.runtime import Runtime
from knowledge.io import UnsupportedFormat, format_entries, format_for, parse_entries
from storage.staff import StaffMember
from storage.staff_kb import DuplicateTest, KbTests

MAX_UPLOAD_MB = 20
EXPORT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv", "markdown": "text/markdown"}
EXPORT_SUFFIX = {"jsonl": "jsonl", "csv": "csv", "markdown": "md"}


def kb_tools_router(runtime: Runtime, auth: StaffAuth, tests: KbTests, jobs: ImportJobs) -> APIRouter:
    router = APIRouter(prefix="/staff/kb", include_in_schema=False)
    faqs, knowledge = runtime.faqs, runtime.knowledge
    Viewer = Annotated[StaffMember, Depends(auth.require(*VIEWERS))]
    Editor = Annotated[StaffMember, Depends(auth.require(*EDITORS))]

    @router.get("/io", response_class=HTMLResponse)
    def io_page(member: Viewer, request: Request):
        return render(request, "kb_io.html", member, report=None)

    @router.post("/import", response_class=HTMLResponse)
    async def import_file(
        member: Editor, request: Request, file: Annotated[UploadFile, File()], skip_bad: bool = Form(False)
    ):
        language = page_language(request)
        name = file.filename or "upload"
        try:
            fmt = format_for(PurePosixPath(name))
        except UnsupportedFormat:
            return _io_error(request, member, say("io.bad_type", language), 422)
        raw = await file.read(MAX_UPLOAD_MB * 1024 * 1024 + 1)
        if len(raw) > MAX_UPLOAD_MB * 1024 * 1024:
            return _io_error(request, member, say("io.too_big", language, mb=MAX_UPLOAD_MB), 413)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _io_error(request, member, say("io.not_utf8", language), 422)
        result = await run_in_threadpool(parse_entries, text, fmt, skip_bad=skip_bad)
        detail = {"file": name[:200], "entries": len(result.entries), "problems": len(result.errors)}
        if result.errors and not skip_bad:
            await run_in_threadpool(auth.audit, member, "kb.import_refused", "kb", detail)
            return render(request, "kb_io.html", member, report=None, name=name, errors=result.errors, status_code=422)
        if len(result.entries) > jobs.small_import:  # a long file: a background job with a progress page
            job = await run_in_threadpool(jobs.start, member, name[:200], result.entries, result.errors)
            return RedirectResponse(f"/staff/kb/import/{job.id}", status_code=303)
        saved = await run_in_threadpool(faqs.save_many, result.entries, member.actor, f"import {name[:200]}")
        await run_in_threadpool(knowledge.sync, faqs.all())
        await run_in_threadpool(auth.audit, member, "kb.import", "kb", {**detail, "created": saved.created})
        return render(request, "kb_io.html", member, report=saved, name=name, errors=result.errors)

    @router.get("/export")
    def export(member: Viewer, format: str = Query("jsonl", pattern="^(jsonl|csv|markdown)$")):
        entries = faqs.all()
        auth.audit(member, "kb.export", "kb", {"format": format, "entries": len(entries)})
        body = format_entries(entries, format)
        headers = {"content-disposition": f'attachment; filename="warmdesk-kb.{EXPORT_SUFFIX[format]}"'}
        return Response(body, media_type=f"{EXPORT_TYPES[format]}; charset=utf-8", headers=headers)

    @router.get("/try", response_class=HTMLResponse)
    async def try_it(member: Viewer, request: Request, q: str = Query("", max_length=2000)):
        result, candidates = None, []
        if q.strip():
            result = await run_in_threadpool(knowledge.search, q)
            for candidate in result.candidates[:5]:
                entry = knowledge.entry(candidate.faq_id)
                candidates.append((candidate, entry))
            await run_in_threadpool(auth.audit, member, "kb.try", "kb", {"decision": result.decision})
        return render(request, "kb_try.html", member, q=q, result=result, candidates=candidates)

    @router.get("/tests", response_class=HTMLResponse)
    async def tests_page(member: Viewer, request: Request, run: bool = False):
        saved = await run_in_threadpool(tests.all)
        outcomes = await run_in_threadpool(run_tests, knowledge, saved) if run else None
        if run:
            passed = sum(outcome.passed for outcome in outcomes)
            await run_in_threadpool(auth.audit, member, "kb.tests_run", "kb", {"passed": passed, "total": len(saved)})
        return render(
            request,
            "kb_tests.html",
            member,
            tests=saved,
            outcomes=outcomes,
            message=request.query_params.get("message", ""),
        )

    @router.post("/tests")
    async def add_test(
        member: Editor,
        request: Request,
        question: str = Form(min_length=1, max_length=2000),
        expected: str = Form(min_length=1, max_length=80),
    ):
        language = page_language(request)
        if await run_in_threadpool(faqs.get, expected) is None:
            raise HTTPException(422, say("tests.unknown_entry", language, id=expected))
        try:
            test = await run_in_threadpool(tests.add, question, expected, member.actor)
        except DuplicateTest as error:
            raise HTTPException(409, say("tests.duplicate", language)) from error
        await run_in_threadpool(auth.audit, member, "kb.test_add", f"faq:{expected}", {"test": test.id})
        return RedirectResponse("/staff/kb/tests", status_code=303)

    @router.post("/tests/delete")
    async def delete_test(member: Editor, test_id: int = Form(ge=1, le=2**62)):
        if not await run_in_threadpool(tests.remove, test_id):
            raise HTTPException(404, "no such test")
        await run_in_threadpool(auth.audit, member, "kb.test_delete", f"kb_test:{test_id}")
        return RedirectResponse("/staff/kb/tests", status_code=303)

    return router


def _io_error(request: Request, member: StaffMember, error: str, status_code: int) -> HTMLResponse:
    return render(request, "kb_io.html", member, report=None, error=error, status_code=status_code)
