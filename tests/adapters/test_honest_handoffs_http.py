"""Honest handoffs end to end over real HTTP: with no desk the customer is told and keeps getting answers;
with an agent signed in to the console the handoff opens, FAQ questions are still answered while waiting,
and "never mind" withdraws the request."""

from __future__ import annotations

import httpx
import pytest

from tests.adapters.conftest import LiveServer
from tests.handoff.live import AGENT_TOKEN, WebCustomer, handoff_runtime


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runtime = handoff_runtime(tmp_path_factory.mktemp("honest"), staffed=False)
    live = LiveServer(runtime)
    live.start()
    yield live, runtime
    live.stop()
    runtime.close()


def console(base_url: str) -> httpx.Client:
    headers = {"authorization": f"Bearer {AGENT_TOKEN}", "x-agent-name": "ann"}
    return httpx.Client(base_url=f"{base_url}/agent/api", headers=headers, timeout=30)


def test_with_nobody_signed_in_the_customer_is_told_honestly_and_the_bot_keeps_answering(server):
    live, runtime = server
    customer = WebCustomer(live.url)

    told = customer.say("转人工")["replies"][0]
    assert told["kind"] == "handoff_unavailable" and "现在没有同事在线" in told["text"]
    left = customer.say("我的电话是 13800000000，请回电")["replies"][0]
    assert left["kind"] == "left_message"
    answered = customer.say("我的快递到哪了？")["replies"][0]
    assert answered["kind"] == "answer"

    (message,) = [h for h in runtime.handoff.repository.queue() if h.status == "message"]
    transcript = console(live.url).get(f"/handoffs/{message.id}").json()["transcript"]  # staff find it later
    assert any("13800000000" in line["text"] for line in transcript)


def test_with_an_agent_in_the_console_the_handoff_opens_faqs_are_answered_while_waiting_and_never_mind_withdraws(
    server,
):
    live, runtime = server
    ann = console(live.url)
    assert ann.get("/handoffs").status_code == 200  # ann is at her desk now
    customer = WebCustomer(live.url)

    assert customer.say("I want to talk to a human")["replies"][0]["kind"] == "handoff"
    waiting_answer = customer.say("How can I see where my parcel is right now?")["replies"][0]
    assert waiting_answer["kind"] == "answer"
    acknowledged = customer.say("what is the weather like in Paris today")["replies"][0]
    assert acknowledged["kind"] == "waiting"
    handoff_id = max(h["id"] for h in ann.get("/handoffs").json()["handoffs"])
    decisions = [line["decision"] for line in ann.get(f"/handoffs/{handoff_id}").json()["transcript"]]
    assert "answer_while_waiting" in decisions  # marked for the agent

    withdrawn = customer.say("never mind")["replies"][0]
    assert withdrawn["kind"] == "handoff_withdrawn"
    assert runtime.handoff.repository.get(handoff_id).status == "resolved"
    assert customer.say("How can I see where my parcel is right now?")["replies"][0]["kind"] == "answer"
