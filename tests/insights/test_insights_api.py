"""The managers' data endpoints over HTTP: the token guard, JSON and CSV per figure, the raw exports, the
customer list and page, clear errors for bad input, and an audit line for every read."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from adapters.insights_api import insights_router
from storage.models import AuditLog, Message
from tests.insights import fixture

TOKEN = "manager-secret"
RANGE = {"from": "2026-11-02", "to": "2026-11-15"}  # the 15th included: [11-02, 11-16)
AS_ANN = {"authorization": f"Bearer {TOKEN}", "x-agent-name": "ann"}


@pytest.fixture
def made(database):
    return fixture.build(database)


@pytest.fixture
def client(database, made):
    app = FastAPI()
    app.include_router(insights_router(database, TOKEN))
    with TestClient(app) as test_client:
        yield test_client


def audit_lines(database) -> list[tuple[str, str, str | None]]:
    with database.session() as session:
        return [(a.actor, a.action, a.target) for a in session.exec(select(AuditLog).order_by(AuditLog.id))]


def test_a_figure_as_json_is_the_hand_counted_one_and_its_view_is_audited(client, database):
    answer = client.get("/staff/api/insights/volume.json", params=RANGE, headers=AS_ANN)
    assert answer.status_code == 200
    assert answer.json()["summary"]["all"]["conversations"] == 5
    assert answer.json()["summary"]["zh"]["messages_in"] == 5
    assert ("staff:ann", "insights.view", "figure:volume") in audit_lines(database)


def test_filters_reach_the_figure(client):
    answer = client.get("/staff/api/insights/volume.json", params={**RANGE, "tier": "vip"}, headers=AS_ANN)
    assert answer.json()["summary"]["all"]["messages_in"] == 5  # B's messages only


def test_without_the_token_nothing_is_shown(database, made, client):
    assert client.get("/staff/api/insights/volume.json").status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert client.get("/staff/api/insights/volume.json", headers=wrong).status_code == 401
    assert client.get("/staff/api/customers", headers=wrong).status_code == 401
    app = FastAPI()
    app.include_router(insights_router(database, None))
    with TestClient(app) as off:
        assert off.get("/staff/api/insights/volume.json", headers=AS_ANN).status_code == 503
    assert audit_lines(database) == [("test", "customer.forget", f"customer:{made.customers['D']}")]


def test_a_figure_as_csv_has_its_table(client):
    answer = client.get("/staff/api/insights/csat.csv", params=RANGE, headers=AS_ANN)
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["week"], r["language"], r["average"]) for r in rows] == [
        ("2026-W45", "en", "5.0"),
        ("2026-W46", "zh", "2.0"),
    ]


def test_the_exports_have_one_row_per_conversation_and_per_message(client, database, made):
    with database.session() as session:
        session.add(
            Message(conversation_id=made.conversations["c4"], customer_id=made.customers["C"], direction="in",
                    platform="web", text='=HYPERLINK("http://evil")', created_at=fixture.at(11, 13))
        )  # fmt: skip
    conversations = list(
        csv.DictReader(
            io.StringIO(client.get("/staff/api/insights/conversations.csv", params=RANGE, headers=AS_ANN).text)
        )
    )
    assert len(conversations) == 5
    c3 = next(r for r in conversations if r["conversation_id"] == str(made.conversations["c3"]))
    assert (c3["channel"], c3["language"], c3["tier"], c3["handoffs"], c3["rating"]) == (
        "wechat",
        "zh",
        "vip",
        "2",
        "2",
    )
    messages = list(
        csv.DictReader(io.StringIO(client.get("/staff/api/insights/messages.csv", params=RANGE, headers=AS_ANN).text))
    )
    assert len(messages) == 22  # 21 of the fixture and the one above; none of the forgotten Dora
    assert messages[-1]["text"] == '\'=HYPERLINK("http://evil")'  # shown in a spreadsheet, never run
    assert {r["topic"] for r in messages if r["faq_id"] == "ship"} == {"orders", ""}
    assert ("staff:ann", "insights.export", "export:messages") in audit_lines(database)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/staff/api/insights/nope.json", RANGE, 404, "no such figure"),
        ("/staff/api/insights/volume.xml", RANGE, 404, "no such figure"),
        ("/staff/api/insights/messages.json", RANGE, 404, "CSV only"),
        ("/staff/api/insights/volume.json", {"from": "2026-11-10", "to": "2026-11-01"}, 422, "after 'from'"),
        ("/staff/api/insights/volume.json", {"from": "yesterday"}, 422, "not a date"),
        ("/staff/api/insights/volume.json", {"from": "2020-01-01", "to": "2026-01-01"}, 422, "at most 400 days"),
        ("/staff/api/insights/volume.json", {"language": "chinese"}, 422, "pattern"),
        ("/staff/api/customers", {"per_page": 1000}, 422, "less than or equal"),
        ("/staff/api/customers/0", {}, 422, "greater than or equal"),
    ],
)
def test_bad_requests_get_a_clear_error(client, database, path, params, status, says):
    answer = client.get(path, params=params, headers=AS_ANN)
    assert answer.status_code == status
    assert says in answer.text
    assert not any(action.startswith("insights") for _, action, _ in audit_lines(database))


def test_the_customer_list_and_page_are_served_and_audited(client, database, made):
    found = client.get("/staff/api/customers", params={"q": "王"}, headers=AS_ANN).json()
    assert found["total"] == 1 and found["rows"][0]["channels"] == ["telegram", "wechat"]
    page = client.get(f"/staff/api/customers/{made.customers['B']}", headers=AS_ANN).json()
    assert [h["rating"] for h in page["handoffs"]] == [None, 2]
    assert [p["label"] for p in page["emotion_timeline"]][:2] == ["anxiety", "sadness"]
    assert page["conversations"][1]["messages"][0]["text"] == "answer refund anxiety"
    gone = client.get(f"/staff/api/customers/{made.customers['D']}", headers=AS_ANN)
    assert gone.status_code == 404
    lines = audit_lines(database)
    assert ("staff:ann", "customer.search", None) in lines
    assert ("staff:ann", "customer.view", f"customer:{made.customers['B']}") in lines
