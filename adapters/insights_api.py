"""The managers' data endpoints under /staff/api: every insights figure as JSON or CSV, the raw exports (one row
per conversation, one per message), the customer list and one customer's 360 view, and the weekly digest.

Who may read them is decided in ONE dependency, `manager_guard`: a staff member signed in with the manager
role (or admin), through the staff app's sign-in (`StaffAuth`: a session cookie from /staff/login, or scripts'
`Authorization: Bearer $WARMDESK_AGENT_TOKEN` + `X-Agent-Name`, the bootstrap admin). Without a staff app (a
bare router in tests) only the token is accepted. Every read is written to the audit log.
"""

from __future__ import annotations

import csv
import hmac
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from bot.insights import FIGURES, Insights
from bot.insights.digest import weekly_digest
from storage.customer360 import MAX_PER_PAGE, CustomerSearch, customer_360, search_customers
from storage.customers import CustomerRepository
from storage.db import MAX_ROW_ID, Database
from storage.reports import ReportFilter, ReportRange
from storage.reports_exports import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_rows, message_rows
from storage.staff import StaffMember

if TYPE_CHECKING:  # the staff app imports this module's range parsing: no import back at run time
    from adapters.staff.auth import StaffAuth

DEFAULT_DAYS = 30
MAX_DAYS = 400
NAME_PATTERN = r"^[\w .@-]{1,40}$"
EXPORTS = {
    "conversations": (CONVERSATION_COLUMNS, conversation_rows),
    "messages": (MESSAGE_COLUMNS, message_rows),
}
Channel = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,19}$")]
Language = Annotated[str | None, Query(pattern=r"^[a-z]{2}$")]
Tier = Annotated[str | None, Query(pattern=r"^[\w-]{1,30}$")]
From = Annotated[str | None, Query(alias="from", max_length=40)]
To = Annotated[str | None, Query(alias="to", max_length=40)]


MANAGER_ROLES = ("manager",)  # admin holds every role


def manager_guard(token: str | None, auth: StaffAuth | None = None) -> Callable:
    """The one place that decides who may read insights; returns the audit actor ("staff:<name>")."""
    if auth is not None:
        signed_in = auth.require(*MANAGER_ROLES)

        async def staff_manager(member: StaffMember = Depends(signed_in)) -> str:  # noqa: B008 (a local dependency)
            return member.actor

        return staff_manager

    def manager(request: Request) -> str:
        if not token:
            raise HTTPException(503, "insights are off: set WARMDESK_AGENT_TOKEN")
        given = request.headers.get("authorization", "")
        if not (
            given.startswith("Bearer ") and hmac.compare_digest(given.removeprefix("Bearer ").encode(), token.encode())
        ):
            raise HTTPException(401, "send Authorization: Bearer <WARMDESK_AGENT_TOKEN>")
        name = request.headers.get("x-agent-name", "token")
        try:
            name = name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            name = ""
        if not re.fullmatch(NAME_PATTERN, name):
            raise HTTPException(400, "X-Agent-Name: 1 to 40 letters, digits, spaces or . @ - _")
        return f"staff:{name}"

    return manager


class RangeError(ValueError):
    """A bad `from`/`to`: the API says the English message; a staff page says `key` in its own language."""

    def __init__(self, key: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.key, self.values = key, values


def parse_range(start: str | None, end: str | None, now: datetime | None = None) -> ReportRange:
    """`from`/`to` as YYYY-MM-DD (a whole day: `to` is included) or ISO datetimes; default the last 30 days."""
    now = now or datetime.now(UTC)
    until = _moment(end, "to", whole_day=True) if end else now
    since = _moment(start, "from") if start else until - timedelta(days=DEFAULT_DAYS)
    if until <= since:
        raise RangeError("ins.err_order", "'to' must come after 'from'")
    if until - since > timedelta(days=MAX_DAYS):
        raise RangeError("ins.err_too_long", f"a range covers at most {MAX_DAYS} days", days=MAX_DAYS)
    return ReportRange(since, until)


def _moment(text: str, name: str, whole_day: bool = False) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if whole_day else moment
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"'{name}' is not a date (YYYY-MM-DD) or an ISO date and time"
        raise RangeError("ins.err_not_a_date", message, field=name) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def csv_safe(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ as formulas: customer text is shown, never run."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_stream(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for index, row in enumerate(rows, 1):
        writer.writerow({k: csv_safe(v) for k, v in row.items()})
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def insights_router(
    db: Database, token: str | None, insights: Insights | None = None, auth: StaffAuth | None = None
) -> APIRouter:
    router = APIRouter(prefix="/staff/api")
    manager = manager_guard(token, auth)
    insights = insights or Insights(db)
    audit = CustomerRepository(db).audit

    def query_range(start: str | None, end: str | None) -> ReportRange:
        try:
            return parse_range(start, end)
        except ValueError as error:
            raise HTTPException(422, str(error)) from None

    def download(name: str, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> StreamingResponse:
        return StreamingResponse(
            csv_stream(columns, rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )

    @router.get("/insights/{file}")
    async def figure(
        file: Annotated[str, PathParameter(max_length=60)],
        who: str = Depends(manager),
        start: From = None,
        end: To = None,
        channel: Channel = None,
        language: Language = None,
        tier: Tier = None,
    ):
        name, _, kind = file.rpartition(".")
        if kind not in ("json", "csv") or (name not in FIGURES and name not in EXPORTS):
            known = ", ".join([*FIGURES, *(f"{e} (csv)" for e in EXPORTS)])
            raise HTTPException(404, f"no such figure: ask for NAME.json or NAME.csv, NAME one of {known}")
        period = query_range(start, end)
        filters = ReportFilter(channel, language, tier)
        detail = {"from": period.start.isoformat(), "to": period.end.isoformat(), **asdict(filters), "as": kind}
        if name in EXPORTS:
            if kind != "csv":
                raise HTTPException(404, f"the {name} export is CSV only: {name}.csv")
            audit(who, "insights.export", f"export:{name}", detail)
            columns, rows = EXPORTS[name]
            return download(name, columns, rows(db, period, filters))
        result = insights.figure(name, period, filters)
        audit(who, "insights.view", f"figure:{name}", detail)
        if kind == "csv":
            return download(name, result.columns, result.rows)
        return JSONResponse(jsonable_encoder({**result.as_json(), "from": detail["from"], "to": detail["to"]}))

    @router.get("/customers")
    async def customers(
        who: str = Depends(manager),
        q: Annotated[str | None, Query(max_length=200)] = None,
        channel: Channel = None,
        tier: Tier = None,
        at_risk: bool | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 25,
    ):
        found = search_customers(db, CustomerSearch(q, channel, tier, at_risk, page, per_page))
        audit(who, "customer.search", None, {"query": q, "channel": channel, "tier": tier, "at_risk": at_risk})
        return JSONResponse(jsonable_encoder(asdict(found)))

    @router.get("/customers/{customer_id}")
    async def customer(customer_id: Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)], who: str = Depends(manager)):
        view = customer_360(db, customer_id, viewer=who)
        if view is None:
            raise HTTPException(404, "no such customer (they may have deleted their data)")
        audit(who, "customer.view", f"customer:{customer_id}")
        return JSONResponse(jsonable_encoder(_plain_360(view)))

    @router.get("/insights-digest.json")
    async def digest(who: str = Depends(manager), end: To = None):
        period = query_range(None, end)
        audit(who, "insights.digest", None, {"to": period.end.isoformat()})
        return JSONResponse(jsonable_encoder(asdict(weekly_digest(insights, period.end))))

    return router


def _plain_360(view) -> dict[str, Any]:
    plain = {name: getattr(view, name) for name in view.__dataclass_fields__}
    plain["conversations"] = [
        {"conversation": t.conversation.model_dump(), "messages": [m.model_dump() for m in t.messages]}
        for t in view.conversations
    ]
    for key in ("identities", "handoffs", "notes", "care_notes", "alerts", "failed_deliveries"):
        plain[key] = [row.model_dump() for row in plain[key]]
    plain["customer"] = view.customer.model_dump()
    plain["emotion_timeline"] = [asdict(p) for p in view.emotion_timeline]
    return plain
