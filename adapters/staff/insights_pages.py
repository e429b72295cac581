"""The managers' pages: the dashboard at /staff/insights (every figure with its chart, its numbers by language
and its table; time range and filters by channel, language and tier) and the printable weekly digest at
/staff/insights/digest. Manager role (admin too); every view is audited. Data: `bot.insights`, the same as the
JSON / CSV endpoints of `adapters/insights_api.py`."""

import json
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from adapters.insights_api import MANAGER_ROLES, RangeError, parse_range
from adapters.staff.auth import StaffAuth
from adapters.staff.insights_view import CARDS
from adapters.staff.pages import page_language, render
from adapters.staff.texts import say
from bot.insights import FIGURES, Insights
from bot.insights.digest import weekly_digest
from storage.db import Database
from storage.models import Customer, Identity
from storage.reports import ReportFilter
from storage.staff import StaffMember

Text = Query("", max_length=40)


def known_values(db: Database) -> tuple[list[str], list[str]]:
    """The channels customers write on and the tiers they have, for the filter menus."""
    with db.session() as session:
        channels = sorted(c for (c,) in session.execute(select(Identity.platform).distinct()) if c)
        tiers = sorted(t for (t,) in session.execute(select(Customer.tier).distinct()) if t)
    return channels, tiers


def chart_json(specs: dict[str, dict]) -> str:
    """Chart data for a <script type="application/json">: `</` must not end the script early."""
    return json.dumps(specs, ensure_ascii=False).replace("<", "\\u003c")


def insights_pages_router(db: Database, auth: StaffAuth, insights: Insights) -> APIRouter:
    router = APIRouter(prefix="/staff/insights", include_in_schema=False)
    Manager = Annotated[StaffMember, Depends(auth.require(*MANAGER_ROLES))]

    @router.get("", response_class=HTMLResponse)
    def dashboard(
        request: Request,
        member: Manager,
        start: str = Query("", alias="from", max_length=40),
        end: str = Query("", alias="to", max_length=40),
        channel: str = Query("", max_length=20, pattern=r"^(|[a-z][a-z0-9_]*)$"),
        language: str = Query("", pattern="^(|zh|en)$"),
        tier: str = Query("", max_length=30, pattern=r"^(|[\w-]+)$"),
    ) -> HTMLResponse:
        channels, tiers = known_values(db)
        form = {"from": start, "to": end, "channel": channel, "language": language, "tier": tier}
        try:
            period = parse_range(start or None, end or None)
        except RangeError as error:
            return render(
                request, "insights.html", member, 422, error=range_error(error, request), cards=[], charts="{}",
                form=form, channels=channels, tiers=tiers, query="",
            )  # fmt: skip
        filters = ReportFilter(channel or None, language or None, tier or None)
        auth.audit(
            member,
            "insights.view",
            "page:dashboard",
            {"from": period.start.isoformat(), "to": period.end.isoformat(), **asdict(filters)},
        )
        t = _say(request)
        cards, specs = [], {}
        for name in FIGURES:
            card = CARDS[name](insights.figure(name, period, filters), t)
            for index, spec in enumerate(card.charts):
                specs[f"{name}-{index}"] = spec
            cards.append(card)
        if not form["from"]:
            form["from"] = period.start.date().isoformat()
        if not form["to"]:
            form["to"] = (period.end - timedelta(seconds=1)).date().isoformat()
        query = "&".join(f"{k}={v}" for k, v in form.items() if v)
        return render(
            request, "insights.html", member, cards=cards, charts=chart_json(specs), form=form,
            channels=channels, tiers=tiers, query=query, period=period, error="",
        )  # fmt: skip

    @router.get("/digest", response_class=HTMLResponse)
    def digest(request: Request, member: Manager, end: str = Query("", alias="to", max_length=40)) -> HTMLResponse:
        try:
            period = parse_range(None, end or None)
        except RangeError as error:
            error_text = range_error(error, request)
            return render(request, "digest.html", member, 422, error=error_text, digest=None, form={"to": end})
        auth.audit(member, "insights.digest", "page:digest", {"to": period.end.isoformat()})
        found = weekly_digest(insights, period.end)
        shown_end = (found.end - timedelta(seconds=1)).date().isoformat()
        return render(
            request, "digest.html", member, digest=found, error="", form={"to": end or shown_end},
            shown_end=shown_end, changes=[_change(c) for c in found.changes],
        )  # fmt: skip

    return router


def _say(request: Request):
    from adapters.staff.pages import page_language
    from adapters.staff.texts import say

    language = page_language(request)
    return lambda key, **values: say(key, language, **values)


RATES = {"bot_resolution_rate", "handoff_rate", "unanswered_rate", "csat", "negative_share"}
CHANGE_LABELS = {
    "conversations": "m.conversations",
    "customer_messages": "m.messages_in",
    "bot_resolution_rate": "m.resolution_rate",
    "handoff_rate": "m.handoff_rate",
    "unanswered_rate": "m.unanswered_rate",
    "csat": "m.csat",
    "negative_share": "m.negative_share",
}


def _change(change) -> dict[str, str]:
    from adapters.staff.insights_view import number, percent

    show = percent if change.name in RATES else number
    return {
        "label": CHANGE_LABELS.get(change.name, change.name),
        "this_week": show(change.this_week),
        "last_week": show(change.last_week),
    }


def range_error(error: RangeError, request: Request) -> str:
    """A bad range in the page's language; the field is named by its label on the form."""
    language = page_language(request)
    values = dict(error.values)
    if "field" in values:
        values["field"] = say(f"ins.{values['field']}", language)
    return say(error.key, language, **values)
