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


# --- the gap queue and customers' wordings ------------------------------------------------------------------

STUDENT = ["Is there a student discount?", "Do you offer discounts for students?"]
ANGRY_STUDENT = "This is ridiculous, I asked three times: is there a student discount or not?!"
PARIS = ["Do you have a shop in Paris?", "Is there a store in Paris I can visit?"]


def gap_cards(html: str) -> list[str]:
    return re.findall(r'<h2 class="gap-title">([^<]*)</h2>', html)


def gap_form(html: str, title: str) -> dict[str, str]:
    card = html[html.index(f'<h2 class="gap-title">{title}</h2>') :]
    card = card[: card.find("</section>")]
    return {
        "ids": re.search(r'name="ids" value="([^"]*)"', card).group(1),
        "faq_id": re.search(r'name="faq_id" list="[^"]*" value="([^"]*)"', card).group(1),
        "language": re.search(r'name="language" value="([^"]*)"', card).group(1),
    }


def test_gap_questions_are_grouped_by_meaning_and_the_most_frustrating_group_comes_first(staff_server):
    live, _ = staff_server
    for text in PARIS:  # two calm customers
        WebCustomer(live.url).say(text)
    WebCustomer(live.url).say(STUDENT[0])
    upset = WebCustomer(live.url)
    upset.say(STUDENT[1])
    upset.say(ANGRY_STUDENT)
    edna = sign_in(live.url, "edna")
    page = edna.get("/staff/kb/gaps").text
    titles = gap_cards(page)
    student = next(t for t in titles if "student" in t.lower())
    paris = next(t for t in titles if "Paris" in t)
    assert titles.index(student) < titles.index(paris)  # the upset, repeated question first
    card = page[page.index(student) : page.index(paris)]
    assert all(text in card for text in [*STUDENT, ANGRY_STUDENT])  # one group, every phrasing
    assert "Asked 3 time(s) by 2 customer(s)" in card and '<span class="tag">web</span>' in card
    assert "coupon_not_working" in card  # the nearest entries are suggested
    assert not any(text in card for text in PARIS)


def test_an_editor_attaches_a_gap_to_an_entry_and_once_approved_the_bot_answers_it(staff_server):
    live, runtime = staff_server
    wording = "a voucher to give my sister for her birthday"
    WebCustomer(live.url).say(wording)
    edna = sign_in(live.url, "edna")
    page = edna.get("/staff/kb/gaps").text
    form = gap_form(page, wording)
    aggie = sign_in(live.url, "aggie")
    refused = aggie.post("/staff/kb/gaps/attach", data={"csrf": csrf_of(aggie), **form, "phrasing": wording})
    assert refused.status_code == 403
    attached = edna.post(
        "/staff/kb/gaps/attach", data={"csrf": hidden(page, "csrf"), **form, "phrasing": wording, "faq_id": "gift_card"}
    )
    assert attached.status_code == 303 and wording not in gap_cards(edna.get("/staff/kb/gaps").text)
    (draft,) = pending(runtime, wording)
    assert draft.kind == "question" and draft.faq_id == "gift_card"
    assert wording not in runtime.faqs.get("gift_card").questions  # nothing live before approval
    approved = edna.post("/staff/kb/drafts/approve", data={"csrf": hidden(page, "csrf"), "draft_id": draft.id})
    assert approved.status_code == 303
    assert wording in runtime.faqs.get("gift_card").questions
    assert runtime.knowledge.search(wording).faq_id == "gift_card"
    actions = [line.action for line in audit_lines(runtime)]
    assert {"kb.gap_attach", "kb.draft_approve", "kb.gaps"} <= set(actions)
    assert any(line.action == "staff.forbidden" and line.actor == "staff:aggie" for line in audit_lines(runtime))


def test_a_dismissed_gap_leaves_the_queue_and_a_new_entry_draft_waits_for_approval(staff_server):
    live, runtime = staff_server
    WebCustomer(live.url).say("Do you sell tickets to the opera?")
    WebCustomer(live.url).say("Can I bring my dog into your warehouse?")
    edna = sign_in(live.url, "edna")
    page = edna.get("/staff/kb/gaps").text
    token = hidden(page, "csrf")
    opera = gap_form(page, "Do you sell tickets to the opera?")
    assert edna.post("/staff/kb/gaps/dismiss", data={"csrf": token, "ids": opera["ids"]}).status_code == 303
    dog = gap_form(page, "Can I bring my dog into your warehouse?")
    drafted = edna.post(
        "/staff/kb/gaps/new",
        data={
            "csrf": token,
            "ids": dog["ids"],
            "phrasing": "Can I bring my dog into your warehouse?",
            "answer": "Only guide dogs, sorry.",
            "language": "en",
        },
    )
    assert drafted.status_code == 303
    titles = gap_cards(edna.get("/staff/kb/gaps").text)
    assert "Do you sell tickets to the opera?" not in titles and "Can I bring my dog into your warehouse?" not in titles
    (draft,) = pending(runtime, "Can I bring my dog into your warehouse?")
    assert draft.kind == "entry" and draft.answer == "Only guide dogs, sorry."
    assert runtime.knowledge.search("Can I bring my dog into your warehouse?").decision != "answer"


def test_a_customers_clarify_pick_proposes_their_wording_and_near_duplicates_count_on_it(staff_server):
    live, runtime = staff_server
    picks = runtime.engine.clarify_picks
    for wording in ("can I pay", "Can I pay?"):
        customer = WebCustomer(live.url)
        offered = customer.say(wording)["replies"][0]
        assert offered["kind"] == "clarify" and any(c["id"] == "faq:payment_methods" for c in offered["choices"])
        customer.say("", choice_id="faq:payment_methods")
        picks.drain()
    (draft,) = [d for d in DraftRepository(runtime.db).pending("question") if d.faq_id == "payment_methods"]
    assert draft.question == "can I pay" and draft.count == 2 and draft.source.startswith("clarify:")
    assert "can I pay" not in runtime.faqs.get("payment_methods").questions  # auto-approval is off by default
    customer = WebCustomer(live.url)
    customer.say("can I pay")
    customer.say("", choice_id="none")  # "None of these" is a gap, not a pick
    picks.drain()
    assert [d.count for d in DraftRepository(runtime.db).pending("question") if d.id == draft.id] == [2]
    page = sign_in(live.url, "edna").get("/staff/kb/gaps").text
    assert "can I pay" in gap_cards(page) and "Asked 1 time(s)" in page[page.index(">can I pay<") :]


def test_with_auto_approval_a_wording_picked_n_times_goes_live_by_itself(staff_server):
    _, runtime = staff_server
    picks = runtime.engine.clarify_picks
    picks.auto_approve_at = 2
    try:
        wording = "prepaid present credit for a friend"
        assert runtime.knowledge.search(wording).decision != "answer"
        picks.record(wording, "gift_card", "en", "clarify:test")
        assert wording not in runtime.faqs.get("gift_card").questions
        picks.record(wording, "gift_card", "en", "clarify:test")
    finally:
        picks.auto_approve_at = 0
    assert wording in runtime.faqs.get("gift_card").questions
    assert runtime.knowledge.search(wording).faq_id == "gift_card"
    assert any(line.actor == "auto:clarify-picks" for line in audit_lines(runtime))


def test_an_agent_who_sends_an_entrys_answer_proposes_the_question_as_that_entrys_wording(staff_server):
    live, runtime = staff_server
    known = runtime.faqs.get("gift_card")
    handoff_answered(live, runtime, "do you do present vouchers", f"Hello! {known.answer_for('en')} Thanks!")
    (draft,) = pending(runtime, "do you do present vouchers")
    assert draft.kind == "question" and draft.faq_id == "gift_card"


def audit_lines(runtime):
    from sqlmodel import select

    from storage.models import AuditLog

    with runtime.db.session() as session:
        return session.exec(select(AuditLog).order_by(AuditLog.id)).all()
