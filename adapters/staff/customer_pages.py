"""Customer 360 pages for managers: the searchable list at /staff/customers and one customer's page at
/staff/customers/ID (identities, the emotion timeline as a chart and a table, conversations with transcripts,
handoffs with summaries and ratings, agents' care notes first, then notes, alerts, failed deliveries), and for
admins the export and the forget button. Every view is audited; forgotten customers are gone (404)."""

import json
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from adapters.insights_api import MANAGER_ROLES
from adapters.staff.auth import StaffAuth
from adapters.staff.insights_pages import chart_json, known_values
from adapters.staff.insights_view import EMOTION_ORDER, emotion_label
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.care.staff_texts import reason_text
from storage.customer360 import CustomerSearch, customer_360, search_customers
from storage.customers import CustomerRepository
from storage.db import MAX_ROW_ID, Database
from storage.staff import StaffMember

PER_PAGE = 25
CustomerId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]


def customer_pages_router(db: Database, auth: StaffAuth) -> APIRouter:
    router = APIRouter(prefix="/staff/customers", include_in_schema=False)
    Manager = Annotated[StaffMember, Depends(auth.require(*MANAGER_ROLES))]
    Admin = Annotated[StaffMember, Depends(auth.require("admin"))]
    customers = CustomerRepository(db)

    @router.get("", response_class=HTMLResponse)
    def listing(
        request: Request,
        member: Manager,
        q: str = Query("", max_length=200),
        channel: str = Query("", max_length=20, pattern=r"^(|[a-z][a-z0-9_]*)$"),
        tier: str = Query("", max_length=30, pattern=r"^(|[\w-]+)$"),
        risk: str = Query("", pattern="^(|yes|no)$"),
        page: int = Query(1, ge=1, le=100_000),
    ) -> HTMLResponse:
        at_risk = {"yes": True, "no": False}.get(risk)
        found = search_customers(db, CustomerSearch(q or None, channel or None, tier or None, at_risk, page, PER_PAGE))
        detail = {"query": q, "channel": channel, "tier": tier, "at_risk": at_risk}
        auth.audit(member, "customer.search", "page:customers", detail)
        channels, tiers = known_values(db)
        form = {"q": q, "channel": channel, "tier": tier, "risk": risk}
        return render(
            request, "customers.html", member, found=found, form=form, channels=channels, tiers=tiers,
            pages=max(1, math.ceil(found.total / PER_PAGE)), query={k: v for k, v in form.items() if v},
        )  # fmt: skip

    @router.get("/{customer_id}", response_class=HTMLResponse)
    def one(request: Request, member: Manager, customer_id: CustomerId) -> HTMLResponse:
        view = customer_360(db, customer_id, viewer=member.actor)
        if view is None:
            language = page_language(request)
            return render(request, "customer_missing.html", member, 404, text=say("cust.none", language))
        auth.audit(member, "customer.view", f"customer:{customer_id}", {"page": True})
        language = page_language(request)

        def t(key: str, **values: object) -> str:
            return say(key, language, **values)

        present = {p.label for p in view.emotion_timeline}
        labels = [e for e in EMOTION_ORDER if e in present] + sorted(present - set(EMOTION_ORDER))
        timeline = {
            "kind": "timeline",
            "y": [emotion_label(label, t) for label in labels],
            "keys": labels,
            "data": [[p.created_at.isoformat(), labels.index(p.label), p.intensity] for p in view.emotion_timeline],
        }
        return render(
            request, "customer.html", member, view=view, charts=chart_json({"timeline": timeline} if present else {}),
            feeling=lambda label: emotion_label(label, t), reason=lambda text: reason_text(text, language),
        )  # fmt: skip

    @router.get("/{customer_id}/export.json")
    def export(member: Admin, customer_id: CustomerId) -> JSONResponse:
        document = customers.export(customer_id, member.actor)
        if document is None:
            raise HTTPException(404, "no such customer (they may have deleted their data)")
        return JSONResponse(
            json.loads(json.dumps(jsonable_encoder(document), ensure_ascii=False)),
            headers={"content-disposition": f'attachment; filename="customer-{customer_id}.json"'},
        )

    @router.post("/{customer_id}/forget")
    def forget(member: Admin, customer_id: CustomerId, confirm: str = Form("", max_length=10)):
        if confirm != "yes":
            raise HTTPException(422, "tick the box to confirm: forgetting deletes everything about the customer")
        if not customers.forget(customer_id, member.actor):
            raise HTTPException(404, "no such customer")
        return RedirectResponse("/staff/customers", status_code=303)

    return router
