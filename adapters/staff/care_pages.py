"""Relationship care in the staff app: the care inbox (account managers' alerts and churn warnings), staff tasks
(done / snooze / reassign) and the scheduled jobs (visible, cancellable). Agents and managers (and admins) only;
every view and change is audited."""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi import Query as QueryParameter
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from adapters.staff.auth import StaffAuth
from adapters.staff.care_texts import CARE_TEXTS
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.care.staff_texts import shown, task_title
from bot.care.wiring import Care
from storage.db import MAX_ROW_ID
from storage.models import JobStatus, utcnow
from storage.staff import StaffMember

CARE_ROLES = ("agent", "manager")
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]
INBOX_KINDS = ("alert", "at_risk", "churn", "task")
JOB_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.DONE, JobStatus.CANCELLED)
SNOOZE_HOURS = (4, 24, 72)
NOTICES = frozenset({"read", "done", "snoozed", "assigned", "cancelled"})
JOB_KIND_KEYS = frozenset(key for key in CARE_TEXTS["en"] if key.startswith("care.job."))
Name = Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[^\s<>\"']([^<>\"']*[^\s<>\"'])?$")]


def care_pages_router(auth: StaffAuth, care: Care, clock=utcnow) -> APIRouter:
    router = APIRouter(prefix="/staff/care", include_in_schema=False)
    Staff = Annotated[StaffMember, Depends(auth.require(*CARE_ROLES))]

    def page(request: Request, template: str, member: StaffMember, section: str, **context: object) -> HTMLResponse:
        said = request.query_params.get("said")
        notice = f"care.said.{said}" if said in NOTICES else None
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("said", "lang")]
        back = request.url.path + ("?" + urlencode(kept) if kept else "")
        language = page_language(request)
        return render(
            request, template, member, section=section, notice=notice, when=_when, back=back,
            shown=lambda row, fallback: shown(row.message, language, fallback or ""),
            title_of=lambda task: task_title(task.kind, language, task.title),
            result=lambda text: _result(text, language),
            **context,
        )  # fmt: skip

    # -- the inbox ---------------------------------------------------------------------------------------------

    @router.get("", response_class=HTMLResponse)
    def inbox(
        member: Staff,
        request: Request,
        who: str = QueryParameter("", alias="for", max_length=100),
        kind: str = QueryParameter("", max_length=20),
        unread: bool = False,
    ) -> HTMLResponse:
        recipients = care.repository.inbox_recipients()
        items = care.repository.inbox(who or None, unread, 200, kind if kind in INBOX_KINDS else None)
        auth.audit(member, "care.inbox", None, {"recipient": who or None, "kind": kind or None})
        return page(
            request, "care_inbox.html", member, "inbox",
            items=items, recipients=recipients, who=who, kind=kind, unread=unread, kinds=INBOX_KINDS,
        )  # fmt: skip

    @router.post("/inbox/{item_id}/read")
    async def read(member: Staff, item_id: RowId, back: str = Form(default="", max_length=300)):
        item = await run_in_threadpool(care.repository.inbox_item, item_id)
        if item is None:
            raise HTTPException(404, f"no notice #{item_id}")
        await run_in_threadpool(care.repository.mark_read, item_id, item.recipient, clock())
        await run_in_threadpool(auth.audit, member, "care.inbox_read", f"inbox:{item_id}")
        return _back("/staff/care", back, "read")

    # -- tasks -------------------------------------------------------------------------------------------------

    @router.get("/tasks", response_class=HTMLResponse)
    def tasks(
        member: Staff,
        request: Request,
        assignee: str = QueryParameter("", max_length=100),
        done: bool = False,
    ) -> HTMLResponse:
        rows = care.repository.tasks(assignee or None, done)
        auth.audit(member, "care.tasks", None, {"assignee": assignee or None})
        return page(
            request, "care_tasks.html", member, "tasks",
            tasks=rows, assignee=assignee, done=done, overdue=_before(clock()), snooze_hours=SNOOZE_HOURS,
        )  # fmt: skip

    async def change(member: StaffMember, task_id: int, action: str, move, back: str, detail=None):
        task = await run_in_threadpool(care.repository.task, task_id)
        if task is None:
            raise HTTPException(404, f"no task #{task_id}")
        if not await run_in_threadpool(move):
            raise HTTPException(409, f"task #{task_id} is already {task.status}")
        await run_in_threadpool(auth.audit, member, f"task.{action}", f"task:{task_id}", detail)
        return _back("/staff/care/tasks", back, action)

    @router.post("/tasks/{task_id}/done")
    async def task_done(member: Staff, task_id: RowId, back: str = Form(default="", max_length=300)):
        return await change(
            member, task_id, "done", lambda: care.repository.complete_task(task_id, member.actor, clock()), back
        )

    @router.post("/tasks/{task_id}/snooze")
    async def task_snooze(
        member: Staff, task_id: RowId, hours: int = Form(ge=1, le=24 * 90), back: str = Form(default="", max_length=300)
    ):
        until = clock() + timedelta(hours=hours)
        move = lambda: care.repository.snooze_task(task_id, until)  # noqa: E731
        return await change(member, task_id, "snoozed", move, back, {"hours": hours})

    @router.post("/tasks/{task_id}/assign")
    async def task_assign(member: Staff, task_id: RowId, assignee: Name, back: str = Form(default="", max_length=300)):
        move = lambda: care.repository.assign_task(task_id, assignee)  # noqa: E731
        return await change(member, task_id, "assigned", move, back, {"to": assignee})

    # -- scheduled jobs ----------------------------------------------------------------------------------------

    @router.get("/jobs", response_class=HTMLResponse)
    def jobs(
        member: Staff,
        request: Request,
        status: str = QueryParameter("", max_length=20),
        kind: str = QueryParameter("", max_length=60),
    ) -> HTMLResponse:
        wanted = status if status in JOB_STATUSES else None
        rows = care.jobs.listing(wanted, kind or None, limit=200)
        auth.audit(member, "care.jobs", None, {"status": wanted, "kind": kind or None})
        return page(
            request, "care_jobs.html", member, "jobs",
            jobs=rows, counts=care.jobs.counts(), status=wanted or "", kind=kind, statuses=JOB_STATUSES,
            job_kinds=JOB_KIND_KEYS,
        )  # fmt: skip

    @router.post("/jobs/{job_id}/cancel")
    async def cancel(member: Staff, job_id: RowId, back: str = Form(default="", max_length=300)):
        job = await run_in_threadpool(care.jobs.get, job_id)
        if job is None:
            raise HTTPException(404, f"no job #{job_id}")
        if not await run_in_threadpool(care.jobs.cancel, job_id, clock()):
            raise HTTPException(409, f"job #{job_id} is {job.status}; only pending or running jobs can be cancelled")
        await run_in_threadpool(auth.audit, member, "job.cancel", f"job:{job_id}", {"kind": job.kind})
        return _back("/staff/care/jobs", back, "cancelled")

    return router


def _back(default: str, back: str, said: str) -> RedirectResponse:
    """Back to the list the form was on (its filters kept); only a path of this section, never another site."""
    target = back if back.startswith(default) and "//" not in back and "\\" not in back else default
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}said={said}", status_code=303)


def _result(text: str, language: str) -> str:
    """A job's fixed outcome ("sent", "skipped: opted out") in the page's language; others as they are."""
    return say(f"care.result.{text}", language) if f"care.result.{text}" in CARE_TEXTS["en"] else text


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _before(now: datetime):
    """`overdue(task)` for the template; SQLite gives naive UTC datetimes back."""

    def overdue(task) -> bool:
        due = task.due_at if task.due_at.tzinfo else task.due_at.replace(tzinfo=UTC)
        return task.status == "open" and due <= now

    return overdue
