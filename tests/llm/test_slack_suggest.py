"""Slack's "Suggest a reply": the real slack-bolt app and slack_sdk client against the local Slack recorder; the
draft goes to the pressing agent only, as an ephemeral message, and nothing reaches the customer."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from adapters.slack_blocks import SUGGEST, handoff_card
from adapters.slack_desk import slack_router
from bot.handoff.desk import Ticket
from bot.llm.copilot import Copilot
from bot.llm.wiring import llm_rules
from bot.settings import Settings
from storage.nonces import NonceStore
from tests.adapters.conftest import AppServer
from tests.handoff.slack_api import SIGNING_SECRET, SlackApiRecorder, action_body, signed
from tests.llm.conftest import ask

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def slack(llm_runtime):
    recorder = SlackApiRecorder().start()
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_handoff_channel="C1",
        slack_api_base_url=recorder.base_url,
    )
    service = llm_runtime.handoff
    copilot = Copilot(
        llm_runtime.llm,
        llm_runtime.knowledge,
        llm_runtime.embedder,
        service.repository,
        llm_rules(llm_runtime.business),
    )
    router, desk = slack_router(service, llm_runtime.customers, settings, NonceStore(llm_runtime.db), copilot=copilot)
    app = FastAPI()
    app.include_router(router)
    with AppServer(app) as server:
        yield server, recorder, desk
    recorder.stop()


def test_the_card_offers_suggest_a_reply_and_pressing_it_shows_the_agent_a_draft_only(slack, fake, llm_runtime):
    server, recorder, desk = slack
    ticket = Ticket(handoff_id=7, customer_id=1, conversation_id=1, status="requested", reason="asked", summary="s")
    assert SUGGEST in str(handoff_card(ticket, "en", suggest=desk.suggest_button))
    assert SUGGEST not in str(handoff_card(ticket, "en"))

    ask(llm_runtime, "How do I get an invoice?", user="slack-suggest")
    handoff_id = ask(llm_runtime, "I want to talk to a human", user="slack-suggest").handoff_id
    body = action_body(SUGGEST, str(handoff_id), "U7")
    pressed = httpx.post(f"{server.url}/slack/events", content=body, headers={**FORM, **signed(body)}, timeout=30)
    assert pressed.status_code == 200
    shown = recorder.wait_for("chat.postEphemeral", lambda params: params.get("user") == "U7")
    assert shown["text"].startswith("Suggested reply (not sent")
    assert recorder.named("chat.postMessage") == []  # nothing posted for everyone, nothing sent to the customer
