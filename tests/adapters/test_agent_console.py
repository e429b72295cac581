"""The web agent console at /agent: refused without the token, guarded actions over HTTP, and the whole loop
once in a real headless Chromium (customer page and agent page side by side)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.handoff.live import AGENT_TOKEN, WebCustomer, agent_client

ANGRY = "This is ridiculous!!! Three weeks and my parcel still hasn't arrived, nobody answers me. Terrible service!"


def test_console_refuses_requests_without_a_valid_token(handoff_server):
    live, _ = handoff_server
    assert httpx.get(f"{live.url}/agent").status_code == 401
    assert httpx.get(f"{live.url}/agent/api/handoffs").status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert httpx.get(f"{live.url}/agent/api/handoffs", headers=wrong).status_code == 401
    forged = httpx.get(f"{live.url}/agent/api/handoffs", cookies={"warmdesk_staff": "ann|0000"})
    assert forged.status_code == 401


def test_claims_replies_and_closes_are_guarded(handoff_server):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)
    assert customer.say("I want to talk to a human")["replies"][0]["kind"] == "handoff"
    handoff_id = runtime.handoff.repository.queue()[-1].id
    ann, bob = agent_client(live.url, "ann"), agent_client(live.url, "bob")
    queue = ann.get("/handoffs").json()["handoffs"]
    assert any(h["id"] == handoff_id and "human" in h["summary"] for h in queue)

    early = ann.post(f"/handoffs/{handoff_id}/reply", json={"text": "hi", "client_id": "c0"})
    assert early.status_code == 409 and early.json()["outcome"] == "not_claimed"
    assert ann.post(f"/handoffs/{handoff_id}/claim").json()["ok"]
    taken = bob.post(f"/handoffs/{handoff_id}/claim")
    assert taken.status_code == 409 and taken.json()["message"] == f"Handoff #{handoff_id} is already claimed by ann."
    assert bob.post(f"/handoffs/{handoff_id}/reply", json={"text": "me", "client_id": "b1"}).status_code == 409
    for _ in range(2):  # a double-clicked Send is delivered once
        assert ann.post(f"/handoffs/{handoff_id}/reply", json={"text": "Hello from Ann", "client_id": "a1"}).json()[
            "ok"
        ]
    assert [u["text"] for u in customer.wait_for_updates(2)] == [
        "A person from our team has joined the conversation.",
        "Hello from Ann",
    ]
    assert ann.post(f"/handoffs/{handoff_id}/resolve", json={"outcome": "resolved"}).json()["ok"]
    assert ann.post(f"/handoffs/{handoff_id}/resolve", json={}).status_code == 409
    assert ann.post("/handoffs/999999/claim").status_code == 404
    assert ann.post(f"/handoffs/{handoff_id}/resolve", json={"outcome": "explode"}).status_code == 422


def test_agent_names_and_ids_from_outside_are_checked(handoff_server):
    live, runtime = handoff_server
    for bad_name in ("<!channel> *boss*", "x" * 41):
        assert agent_client(live.url, bad_name).get("/handoffs").status_code == 400
    assert agent_client(live.url, "ann").post(f"/handoffs/{'9' * 30}/claim").status_code == 422

    customer = WebCustomer(live.url)
    customer.say("I want to talk to a human")
    handoff_id = max(h.id for h in runtime.handoff.repository.queue())  # the queue lists closed ones last
    lena = httpx.Client(
        base_url=f"{live.url}/agent/api",
        headers={"authorization": f"Bearer {AGENT_TOKEN}", "x-agent-name": "Léna".encode()},
        timeout=30,
    )
    assert lena.post(f"/handoffs/{handoff_id}/claim").json()["ok"]
    assert runtime.handoff.repository.get(handoff_id).agent == "console:Léna"
    blank = lena.post(f"/handoffs/{handoff_id}/reply", json={"text": "  \n ", "client_id": "blank"})
    assert blank.status_code == 422 and blank.json()["outcome"] == "empty"


def test_a_failed_answer_offers_a_person_and_the_choice_hands_off(handoff_server):
    live, runtime = handoff_server
    customer = WebCustomer(live.url)

    failed = customer.say("can you help me with my thing")["replies"][0]  # near the KB, no entry close enough
    assert failed["kind"] == "no_answer"
    person = failed["choices"][-1]
    assert (person["id"], person["label"]) == ("handoff:person", "Talk to a person")

    handed = customer.say(person["label"], choice_id=person["id"])["replies"][0]
    assert handed["kind"] == "handoff"
    handoff = runtime.handoff.repository.queue()
    assert any(h.reason == "customer_choice" and h.status == "requested" for h in handoff)


@pytest.mark.browser
def test_the_whole_loop_through_the_console_in_chromium(browser, handoff_server):
    live, runtime = handoff_server
    customer = browser.new_page(locale="en-US")
    customer.goto(live.url)
    customer.fill("#text", ANGRY)
    customer.press("#text", "Enter")
    expect(customer.locator(".msg.bot").nth(1)).to_contain_text("colleague")
    handoff_id = max(h.id for h in runtime.handoff.repository.queue() if h.status == "requested")

    console = browser.new_context().new_page()
    console.goto(f"{live.url}/agent")
    console.fill("#name", "lena")
    console.fill("#password", AGENT_TOKEN)  # the bootstrap admin signs in with the token
    console.click("#login")
    item = console.locator(f'.item[data-id="{handoff_id}"]')
    expect(item).to_contain_text("requested")
    item.click()
    expect(console.locator("#summary")).to_contain_text("parcel still hasn't arrived")
    console.click("#claim")
    expect(console.locator("#heading")).to_contain_text("claimed · lena")
    expect(customer.locator(".msg.bot").last).to_contain_text("has joined the conversation")

    customer.fill("#text", "How do I get an invoice?")
    customer.press("#text", "Enter")
    expect(console.locator("#transcript .line.customer").last).to_contain_text("How do I get an invoice?")
    bot_bubbles = customer.locator(".msg.bot").count()

    console.fill("#reply", "Hi, Lena here. I have found your parcel and the invoice is on its way.")
    console.press("#reply", "Enter")
    expect(customer.locator(".msg.bot.agent").last).to_contain_text("Lena here")
    assert customer.locator(".msg.bot").count() == bot_bubbles + 1  # only the agent spoke

    console.click("#resolve")
    ratings = customer.locator(".msg.bot").last.locator(".choices button")
    expect(ratings).to_have_count(5)
    ratings.nth(3).click()
    expect(customer.locator(".msg.bot").last).to_contain_text("Thank you for your rating")

    customer.fill("#text", "How long does a refund take to reach my card?")
    customer.press("#text", "Enter")
    expect(customer.locator(".msg.bot").last).to_contain_text("business days")

    handoff = runtime.handoff.repository.get(handoff_id)
    assert (handoff.status, handoff.rating, handoff.agent) == ("resolved", 4, "console:lena")
