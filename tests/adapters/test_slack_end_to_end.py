"""The whole loop on a live server: web chat customer → anger → Slack card → claim → agent reply reaches the
customer → resolve → the bot answers FAQs again → rating stored. Slack is the real slack_sdk client talking
to a local recorder; requests to /slack/events are signed like Slack signs them."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import select

from storage.models import Message
from tests.adapters.conftest import LiveServer
from tests.handoff.live import WebCustomer, handoff_runtime
from tests.handoff.slack_api import SlackApiRecorder, action_body, signed, thread_reply_body

FORM = {"content-type": "application/x-www-form-urlencoded"}
ANGRY = "This is ridiculous!!! Three weeks and my parcel still hasn't arrived, nobody answers me. Terrible service!"


@pytest.fixture(scope="module")
def slack_api():
    recorder = SlackApiRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, slack_api):
    runtime = handoff_runtime(tmp_path_factory.mktemp("slack-e2e"), slack_api.base_url)
    live = LiveServer(runtime)
    live.start()
    yield live, runtime
    live.stop()
    runtime.close()


def slack_post(base_url: str, body: str, content_type: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base_url}/slack/events", content=body, headers={**content_type, **signed(body)}, timeout=30)


def test_customer_to_slack_agent_and_back_to_the_bot(server, slack_api):
    live, runtime = server
    customer = WebCustomer(live.url)
    assert customer.say("How do I get an invoice?")["replies"][0]["kind"] == "answer"

    handed = customer.say(ANGRY)  # how fast the card is posted: benchmarks/handoff_card_bench.py
    assert handed["replies"][0]["kind"] == "handoff" and "colleague" in handed["replies"][0]["text"]
    card = slack_api.wait_for("chat.postMessage", lambda params: "handoff_claim" in str(params.get("blocks")))
    handoff_id = int(next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"])
    handoff = runtime.handoff.repository.get(handoff_id)
    assert handoff.reason in {"anger", "complaint", "negative_trend"} and handoff.evidence["message"] == ANGRY
    assert "Bot already answered:" in handoff.summary and ANGRY in handoff.summary

    # while waiting the bot still answers FAQ questions; every message is mirrored to the thread
    assert customer.say("How do I get an invoice?")["replies"][0]["kind"] == "answer"
    slack_api.wait_for("chat.postMessage", lambda params: params["text"] == "Customer: How do I get an invoice?")

    assert slack_post(live.url, action_body("handoff_claim", str(handoff_id), "U1"), FORM).status_code == 200
    (joined,) = customer.wait_for_updates()
    assert joined["text"] == "A person from our team has joined the conversation."

    thread = runtime.handoff.repository.thread_for(handoff_id, "slack")
    reply = thread_reply_body(
        "Hi, I'm Lena. Your parcel left the depot today.", "U1", "C1", thread.thread_id, "1800000009.000100", "EvE2E1"
    )
    assert slack_post(live.url, reply, {"content-type": "application/json"}).status_code == 200
    (agent_says,) = customer.wait_for_updates()
    assert agent_says == {"text": "Hi, I'm Lena. Your parcel left the depot today.", "kind": "agent", "choices": []}
    assert customer.say("Where is my parcel exactly?")["replies"] == []

    assert slack_post(live.url, action_body("handoff_resolve", str(handoff_id), "U1"), FORM).status_code == 200
    (rating_request,) = customer.wait_for_updates()
    assert [c["label"] for c in rating_request["choices"]] == ["1", "2", "3", "4", "5"]

    thanks = customer.say("5", choice_id=rating_request["choices"][4]["id"])
    assert thanks["replies"][0]["kind"] == "rating"
    assert customer.say("How long does a refund take to reach my card?")["replies"][0]["kind"] == "answer"

    handoff = runtime.handoff.repository.get(handoff_id)
    assert (handoff.status, handoff.outcome, handoff.rating, handoff.agent) == ("resolved", "resolved", 5, "slack:U1")
    slack_api.wait_for("chat.postMessage", lambda params: "rated the help 5/5" in params["text"])
    with runtime.db.session() as session:
        held = session.exec(
            select(Message).where(Message.conversation_id == handoff.conversation_id).order_by(Message.id)
        ).all()
    bot_decisions = [m.decision for m in held if m.direction == "out"]
    waiting = bot_decisions[bot_decisions.index("handoff") + 1 : bot_decisions.index("agent_joined")]
    assert waiting == ["answer_while_waiting"]  # marked for the agent
    between = bot_decisions[bot_decisions.index("agent_joined") : bot_decisions.index("rating_request")]
    assert set(between) <= {"agent_joined", "agent"}, "the bot answered while an agent owned the conversation"
    assert json.dumps(card["blocks"]).count("handoff_claim") == 1
