"""Slack's "Suggest a reply": the real slack-bolt app and slack_sdk client against the local Slack recorder; the
draft goes to the pressing agent only, as an ephemeral message, and nothing reaches the customer."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
from fastapi import FastAPI

from adapters.slack_blocks import SUGGEST, handoff_card
from adapters.slack_desk import slack_router
from benchmarks.fake_llm_server import Reply, grounded, payload_of
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


@pytest.fixture
def desk_loop():
    """An event loop in a thread, as the server's: the Slack desk is told about handoffs on it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def card_of(recorder, ts: str) -> str:
    """The card's section text as Slack shows it last: the newest chat.update of it, else what was posted."""
    updates = [p for p in recorder.named("chat.update") if p.get("ts") == ts]
    posted = [p for p in recorder.named("chat.postMessage") if not p.get("thread_ts")]
    blocks = updates[-1]["blocks"] if updates else posted[-1]["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return blocks[1]["text"]["text"]


def test_the_card_shows_the_llm_summary_once_written_and_keeps_the_template_when_it_fails(
    slack, fake, llm_runtime, desk_loop
):
    _, recorder, desk = slack
    summaries = llm_runtime.handoff.after_open.__self__
    summaries.written.append(desk.llm_summary_written)
    release = threading.Event()

    def summary_held(request):
        if "reason" in (payload_of(request) or {}):
            release.wait(10)
        return grounded(request)

    try:
        fake.behaviour = summary_held
        ask(llm_runtime, "How do I get an invoice?", user="slack-summary")
        handoff_id = ask(llm_runtime, "I want to talk to a human", user="slack-summary").handoff_id
        ticket = llm_runtime.handoff.ticket(handoff_id)
        asyncio.run_coroutine_threadsafe(desk.handoff_started(ticket), desk_loop).result(30)
        ts = llm_runtime.handoff.repository.thread_for(handoff_id, "slack").thread_id
        template = card_of(recorder, ts)
        assert "LLM summary" not in template and "invoice" in template  # the template, at once
        release.set()
        summaries.flush()
        updated = recorder.wait_for("chat.update", lambda p: p.get("ts") == ts)
        shown = card_of(recorder, ts)
        assert updated and shown.startswith("*LLM summary*") and "Goal: I want to talk to a human" in shown
        assert template.splitlines()[0] in shown  # the template summary stays below the LLM's fields
        assert updated["text"] == ticket.summary.splitlines()[0]  # the notification text: still the handoff's title

        fake.behaviour = lambda request: (
            Reply(status=500) if "reason" in (payload_of(request) or {}) else grounded(request)
        )
        ask(llm_runtime, "Where is my parcel?", user="slack-summary-down")
        down = ask(llm_runtime, "I want to talk to a human", user="slack-summary-down").handoff_id
        asyncio.run_coroutine_threadsafe(desk.handoff_started(llm_runtime.handoff.ticket(down)), desk_loop).result(30)
        summaries.flush()
        down_ts = llm_runtime.handoff.repository.thread_for(down, "slack").thread_id
        assert "LLM summary" not in card_of(recorder, down_ts) and "parcel" in card_of(recorder, down_ts)
        assert not [p for p in recorder.named("chat.update") if p.get("ts") == down_ts]
    finally:
        release.set()
        summaries.written.remove(desk.llm_summary_written)
