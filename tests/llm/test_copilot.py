"""The agent copilot over real HTTP: drafts that are never sent by themselves, translations both ways."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import select

from benchmarks.fake_llm_server import OPENERS, Reply
from storage.models import AuditLog, Message
from tests.adapters.conftest import LiveServer
from tests.llm.conftest import AGENT_TOKEN

AGENT = {"Authorization": f"Bearer {AGENT_TOKEN}", "X-Agent-Name": "Lena"}


@pytest.fixture(scope="module")
def server(llm_runtime):
    with LiveServer(llm_runtime) as live:
        yield live


@pytest.fixture
def http(server, fake):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def open_handoff(http, text: str, language: str) -> int:
    before = {h["id"] for h in http.get("/agent/api/handoffs", headers=AGENT).json()["handoffs"]}
    sid = uuid.uuid4().hex
    http.post("/api/chat", json={"session_id": sid, "text": "运费多少钱？", "language": language})
    http.post("/api/chat", json={"session_id": sid, "text": text, "language": language})
    after = {h["id"] for h in http.get("/agent/api/handoffs", headers=AGENT).json()["handoffs"]}
    (handoff_id,) = after - before
    return handoff_id


def outbound_count(runtime, handoff_id: int) -> int:
    conversation_id = runtime.handoff.repository.get(handoff_id).conversation_id
    with runtime.db.session() as session:
        rows = session.exec(
            select(Message).where(Message.conversation_id == conversation_id, Message.direction == "out")
        )
        return len(rows.all())


def test_suggest_a_reply_drafts_from_the_kb_and_sends_nothing(http, fake, llm_runtime):
    handoff_id = open_handoff(http, "我要人工客服", "zh")
    sent_before = outbound_count(llm_runtime, handoff_id)
    response = http.post(f"/agent/api/handoffs/{handoff_id}/suggest", headers=AGENT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sent"] is False and body["language"] == "zh" and body["draft"] and body["faq_ids"]
    assert outbound_count(llm_runtime, handoff_id) == sent_before
    with llm_runtime.db.session() as session:
        actions = session.exec(select(AuditLog.action).where(AuditLog.target == f"handoff:{handoff_id}")).all()
    assert "copilot.suggest" in actions


def test_customer_messages_are_shown_with_a_translation_and_the_agent_reply_goes_out_in_their_language(
    http, fake, llm_runtime
):
    handoff_id = open_handoff(http, "我要人工客服", "zh")
    shown = http.post(f"/agent/api/handoffs/{handoff_id}/translate", json={"target_language": "en"}, headers=AGENT)
    assert shown.status_code == 200
    customer_lines = [m for m in shown.json()["messages"] if m["direction"] == "in"]
    assert customer_lines and all(m["translation"] == "[translated] " + m["text"] for m in customer_lines)

    reply = http.post(
        f"/agent/api/handoffs/{handoff_id}/translate-reply", json={"text": "Your parcel left today."}, headers=AGENT
    ).json()
    assert reply == {
        "text": "[translated] Your parcel left today.",
        "original": "Your parcel left today.",
        "language": "zh",
        "translated": True,
    }


def test_the_copilot_needs_the_console_sign_in_a_real_handoff_and_a_working_llm(http, fake, llm_runtime):
    handoff_id = open_handoff(http, "I want to talk to a human", "en")
    assert http.post(f"/agent/api/handoffs/{handoff_id}/suggest").status_code == 401
    assert http.post("/agent/api/handoffs/999999/suggest", headers=AGENT).status_code == 404
    assert (
        http.post(
            f"/agent/api/handoffs/{handoff_id}/translate", json={"target_language": "fr"}, headers=AGENT
        ).status_code
        == 422
    )
    fake.behaviour = lambda request: Reply(status=500)
    down = http.post(f"/agent/api/handoffs/{handoff_id}/suggest", headers=AGENT)
    assert down.status_code == 503 and "unavailable" in down.json()["detail"]


def test_a_composed_web_chat_answer_carries_the_faq_id_of_the_entry_it_used(http, fake):
    for text, language in (("运费多少钱？", "zh"), ("How much is shipping?", "en")):
        body = http.post("/api/chat", json={"session_id": uuid.uuid4().hex, "text": text, "language": language}).json()
        (answer,) = [r for r in body["replies"] if r["kind"] == "answer"]
        assert answer["text"].startswith(OPENERS[language])  # composed by the (fake) model, not the stored text
        assert answer["faq_id"] == "shipping_costs"


def test_the_console_shows_the_llm_summary_above_the_live_template_summary(http, fake, llm_runtime):
    handoff_id = open_handoff(http, "I want to talk to a human", "en")
    llm_runtime.handoff.after_open.__self__.flush()
    shown = http.get(f"/agent/api/handoffs/{handoff_id}", headers=AGENT).json()["summary"]
    llm_part, template = shown.split("\n\n---\n")
    assert llm_part.startswith("LLM summary\nGoal: I want to talk to a human")
    assert template.startswith(f"Handoff #{handoff_id}")
