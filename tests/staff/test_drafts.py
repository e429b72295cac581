"""Drafts from traffic: an agent's answer in a resolved handoff becomes a pending draft (deduplicated), which
reaches customers only after an editor approves it."""

from __future__ import annotations

import re

import httpx

from storage.staff_drafts import DraftRepository
from tests.handoff.live import AGENT_TOKEN, WebCustomer
from tests.staff.helpers import csrf_of, hidden, sign_in

QUESTION = "Can I pay for my order with bitcoin?"
ANSWER = "Not yet: we take cards, Alipay and WeChat Pay."


def handoff_answered(live, runtime, question: str, answer: str, outcome: str = "resolved") -> None:
    customer = WebCustomer(live.url)
    customer.say("I want to talk to a human")
    customer.say(question)
    handoff_id = max(h.id for h in runtime.handoff.repository.queue())
    agent = httpx.Client(
        base_url=f"{live.url}/agent/api", headers={"authorization": f"Bearer {AGENT_TOKEN}", "x-agent-name": "ann"}
    )
    assert agent.post(f"/handoffs/{handoff_id}/claim").json()["ok"]
    assert agent.post(f"/handoffs/{handoff_id}/reply", json={"text": answer, "client_id": f"r{handoff_id}"}).json()[
        "ok"
    ]
    assert agent.post(f"/handoffs/{handoff_id}/resolve", json={"outcome": outcome}).json()["ok"]


def pending(runtime, question: str):
    return [d for d in DraftRepository(runtime.db).pending() if d.question == question]


def test_a_resolved_handoff_proposes_a_draft_that_goes_live_only_when_approved(staff_server):
    live, runtime = staff_server
    handoff_answered(live, runtime, QUESTION, ANSWER)
    (draft,) = pending(runtime, QUESTION)
    assert draft.answer == ANSWER and draft.source.startswith("handoff:")
    assert all(ANSWER not in (e.answer_for("en")) for e in runtime.faqs.all())  # nothing reached the KB

    handoff_answered(live, runtime, "can i pay for my order with Bitcoin", "Same answer.")
    (counted,) = [d for d in DraftRepository(runtime.db).pending() if d.id == draft.id]
    assert counted.count == 2 and len(DraftRepository(runtime.db).pending()) == 1  # the same question, once

    edna = sign_in(live.url, "edna")
    listed = edna.get("/staff/kb/drafts").text
    assert QUESTION in listed and "Asked 2 time(s)" in listed
    form_page = edna.get("/staff/kb/edit", params={"draft": draft.id}).text
    assert hidden(form_page, "draft_id") == str(draft.id)
    entry_id = re.search(r'name="id" id="entry-id" value="([^"]*)"', form_page).group(1)
    saved = edna.post(
        "/staff/kb/edit",
        data={
            "csrf": hidden(form_page, "csrf"),
            "id": entry_id,
            "revision": "0",
            "draft_id": str(draft.id),
            "questions": QUESTION,
            "answer_en": ANSWER,
            "answer_zh": "暂不支持比特币：我们支持银行卡、支付宝和微信支付。",
        },
    )
    assert saved.status_code == 200 and "Saved as revision 1" in saved.text
    assert not pending(runtime, QUESTION)
    assert runtime.knowledge.search(QUESTION).faq_id == entry_id


def test_a_question_the_kb_already_holds_or_a_handoff_returned_to_the_bot_proposes_nothing(staff_server):
    live, runtime = staff_server
    known = runtime.faqs.get("order_track").questions[-1]
    handoff_answered(live, runtime, known, "Look in My Orders.")
    assert not pending(runtime, known)
    handoff_answered(live, runtime, "Do you sell gift wrapping paper?", "No.", outcome="returned_to_bot")
    assert not pending(runtime, "Do you sell gift wrapping paper?")


def test_an_editor_rejects_a_draft_and_an_agent_cannot(staff_server):
    live, runtime = staff_server
    handoff_answered(live, runtime, "Do you ship to Antarctica?", "Only research stations.")
    (draft,) = pending(runtime, "Do you ship to Antarctica?")
    aggie = sign_in(live.url, "aggie")
    assert aggie.post("/staff/kb/drafts/reject", data={"csrf": csrf_of(aggie), "draft_id": draft.id}).status_code == 403
    edna = sign_in(live.url, "edna")
    token = csrf_of(edna)
    assert edna.post("/staff/kb/drafts/reject", data={"csrf": token, "draft_id": draft.id}).status_code == 303
    assert not pending(runtime, "Do you ship to Antarctica?")
    assert edna.post("/staff/kb/drafts/reject", data={"csrf": token, "draft_id": draft.id}).status_code == 409
