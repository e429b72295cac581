from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import select

from storage.models import Message


@pytest.fixture
def http(live_server):
    # A generous timeout: the first question warms the model, and the 2-core CI machine may be busy.
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def session_id() -> str:
    return uuid.uuid4().hex


def test_healthz_answers_once_ready(http):
    response = http.get("/healthz")
    assert response.status_code == 200 and response.json()["faq_entries"] >= 40


def test_chat_page_and_welcome_in_both_languages(http):
    page = http.get("/")
    assert page.status_code == 200 and 'id="composer"' in page.text
    assert "human" in http.get("/api/chat/welcome?language=en").json()["text"]
    assert "人工" in http.get("/api/chat/welcome?language=zh").json()["text"]


def test_a_question_over_http_is_answered_and_logged(http, live_runtime):
    sid = session_id()
    response = http.post("/api/chat", json={"session_id": sid, "message_id": "m1", "text": "我的快递到哪了？"})
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "zh" and body["replies"][0]["text"]

    retried = http.post("/api/chat", json={"session_id": sid, "message_id": "m1", "text": "我的快递到哪了？"})
    assert retried.json() == {"replies": [], "language": "zh", "duplicate": True}
    with live_runtime.db.session() as session:
        rows = session.exec(select(Message).where(Message.platform == "web", Message.platform_message_id == "m1"))
        assert len(rows.all()) == 1


def test_malformed_and_hostile_requests_get_clear_errors_and_the_server_keeps_serving(http):
    json_header = {"content-type": "application/json"}
    assert http.post("/api/chat", content=b"{not json", headers=json_header).status_code == 422
    assert http.post("/api/chat", json={"session_id": "../../etc", "text": "hi"}).status_code == 422
    assert http.post("/api/chat", json={"text": "no session"}).status_code == 422
    assert http.post("/api/chat", json={"session_id": session_id(), "text": "x" * 10_001}).status_code == 422
    assert http.post("/api/chat", content=b"x" * (300 * 1024), headers=json_header).status_code == 413

    def chunks():
        for _ in range(100):
            yield b"y" * 4096

    assert http.post("/api/chat", content=chunks(), headers=json_header).status_code == 413
    assert http.post("/api/chat", content=b"\xff\xfe\x00", headers=json_header).status_code == 400
    assert http.get("/healthz").status_code == 200


def test_a_lone_surrogate_is_refused_with_a_clear_error_and_nothing_is_logged(http, live_runtime):
    sid = session_id()
    body = b'{"session_id": "%s", "text": "\\ud800 refund zq7"}' % sid.encode()
    response = http.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "text"] and "unicode" in error["msg"].lower()
    with live_runtime.db.session() as session:
        assert session.exec(select(Message).where(Message.text.contains("zq7"))).all() == []


def test_an_answer_over_http_names_the_entry_it_came_from_and_other_replies_do_not(http):
    sid = session_id()
    answered = http.post("/api/chat", json={"session_id": sid, "text": "How do I track my order?"}).json()
    assert [(r["kind"], r.get("faq_id")) for r in answered["replies"]] == [("answer", "order_track")]
    empty = http.post("/api/chat", json={"session_id": sid, "text": "   "}).json()
    assert [r["kind"] for r in empty["replies"]] == ["empty"] and "faq_id" not in empty["replies"][0]
