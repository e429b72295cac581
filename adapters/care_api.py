"""JSON endpoints of relationship care for the agent console and the staff web app (pages are theirs to build).

Signed in the way the agent console is (a staff session with the agent role, or `Authorization: Bearer
WARMDESK_AGENT_TOKEN` with `X-Agent-Name`). Every view and change is audited as `console:<name>`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi import Path as PathParameter
from fastapi import Query as QueryParameter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from adapters.agent_console import console_agent
from adapters.staff.auth import StaffAuth
from bot.care.notes import MAX_NOTE_CHARS, CareNoteError
from bot.care.wiring import Care
from storage.customers import CustomerRepository
from storage.db import MAX_ROW_ID
from storage.models import utcnow

RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]
DESK = "console"


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class SnoozeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours: float = Field(gt=0, le=24 * 90)


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=100)


class ManagerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_manager: str | None = Field(default=None, max_length=100)


def care_router(care: Care, customers: CustomerRepository, staff: StaffAuth) -> APIRouter:
    router = APIRouter(prefix="/agent/api")

    agent = console_agent(staff)

    @router.post("/handoffs/{handoff_id}/care-note", status_code=201)
    async def add_care_note(handoff_id: RowId, body: NoteBody, who: str = Depends(agent)) -> JSONResponse:
        try:
            note = await asyncio.to_thread(care.notes.add, handoff_id, who, body.text)
        except CareNoteError as error:
            status = 404 if str(error).startswith("no handoff") else 409 if "not resolved" in str(error) else 422
            return JSONResponse({"detail": str(error)}, status_code=status)
        return JSONResponse({"id": note.id, "customer_id": note.customer_id, "text": note.text}, status_code=201)

    @router.get("/care/inbox")
    async def inbox(who: str = Depends(agent), recipient: str | None = QueryParameter(None, max_length=100)) -> dict:
        wanted = recipient or who
        items = await asyncio.to_thread(care.repository.inbox, wanted)
        customers.audit(who, "care.inbox", None, {"recipient": wanted})
        return {
            "recipient": wanted,
            "items": [
                {"id": i.id, "kind": i.kind, "text": i.text, "customer_id": i.customer_id,
                 "created_at": i.created_at.isoformat(), "read": i.read_at is not None}
                for i in items
            ],
        }  # fmt: skip

    @router.post("/care/inbox/{item_id}/read")
    async def read(
        item_id: RowId, who: str = Depends(agent), recipient: str | None = QueryParameter(None, max_length=100)
    ) -> dict:
        return {"ok": await asyncio.to_thread(care.repository.mark_read, item_id, recipient or who)}

    @router.get("/care/tasks")
    async def tasks(
        who: str = Depends(agent), assignee: str | None = QueryParameter(None, max_length=100), done: bool = False
    ):
        rows = await asyncio.to_thread(care.repository.tasks, assignee, done)
        customers.audit(who, "care.tasks", None, {"assignee": assignee})
        return {"tasks": [_task(t) for t in rows]}

    async def change(task_id: int, who: str, action: str, move) -> JSONResponse:
        task = await asyncio.to_thread(care.repository.task, task_id)
        if task is None:
            return JSONResponse({"detail": f"no task #{task_id}"}, status_code=404)
        if not await asyncio.to_thread(move, task):
            return JSONResponse({"detail": f"task #{task_id} is already {task.status}"}, status_code=409)
        customers.audit(who, f"task.{action}", f"task:{task_id}")
        return JSONResponse({"task": _task(care.repository.task(task_id))})

    @router.post("/care/tasks/{task_id}/done")
    async def task_done(task_id: RowId, who: str = Depends(agent)) -> JSONResponse:
        return await change(task_id, who, "done", lambda t: care.repository.complete_task(t.id, who))

    @router.post("/care/tasks/{task_id}/snooze")
    async def task_snooze(task_id: RowId, body: SnoozeBody, who: str = Depends(agent)) -> JSONResponse:
        later = timedelta(hours=body.hours)
        return await change(task_id, who, "snoozed", lambda t: care.repository.snooze_task(t.id, utcnow() + later))

    @router.post("/care/tasks/{task_id}/assign")
    async def task_assign(task_id: RowId, body: AssignBody, who: str = Depends(agent)) -> JSONResponse:
        return await change(task_id, who, "assigned", lambda t: care.repository.assign_task(t.id, body.assignee))

    @router.get("/care/sla")
    async def sla(who: str = Depends(agent), days: int = QueryParameter(30, ge=1, le=366)) -> dict:
        figures = await asyncio.to_thread(care.sla.repository.figures, utcnow() - timedelta(days=days))
        return {"days": days, "target_minutes": care.sla.target_minutes, **figures.as_dict()}

    @router.get("/customers/{customer_id}/care")
    async def customer_care(customer_id: RowId, who: str = Depends(agent)) -> JSONResponse:
        customer = await asyncio.to_thread(care.repository.customer, customer_id)
        if customer is None:
            return JSONResponse({"detail": f"no customer #{customer_id}"}, status_code=404)
        segment = care.segments.repository.segment_of(customer_id)
        note = care.repository.latest_care_note(customer_id)
        customers.audit(who, "customer.care", f"customer:{customer_id}")
        return JSONResponse(
            {
                "customer_id": customer_id,
                "tier": customer.tier,
                "account_manager": customer.account_manager,
                "opted_out": care.repository.opted_out(customer_id),
                "segment": None if segment is None else {
                    "recency": segment.recency, "frequency": segment.frequency, "monetary": segment.monetary,
                    "segment": segment.segment, "churn_risk": segment.churn_risk, "orders": segment.orders,
                    "total_amount": segment.total_amount,
                },
                "care_note": None if note is None else {
                    "text": note.text, "author": note.author, "created_at": note.created_at.isoformat()
                },
            }
        )  # fmt: skip

    @router.put("/customers/{customer_id}/account-manager")
    async def set_manager(customer_id: RowId, body: ManagerBody, who: str = Depends(agent)) -> JSONResponse:
        if not await asyncio.to_thread(care.repository.set_account_manager, customer_id, body.account_manager):
            return JSONResponse({"detail": f"no customer #{customer_id}"}, status_code=404)
        customers.audit(who, "customer.account_manager", f"customer:{customer_id}", {"to": body.account_manager})
        return JSONResponse({"customer_id": customer_id, "account_manager": body.account_manager or None})

    return router


def _task(task) -> dict:
    return {
        "id": task.id,
        "kind": task.kind,
        "title": task.title,
        "detail": task.detail,
        "customer_id": task.customer_id,
        "assignee": task.assignee,
        "status": task.status,
        "due_at": task.due_at.isoformat(),
        "done_by": task.done_by,
    }
