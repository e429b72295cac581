"""With the LLM failing, slow, over budget or talking nonsense, the offline reply answers and no error shows."""

from __future__ import annotations

import json
import time

from benchmarks.fake_llm_server import Reply, payload_of
from bot.llm.client import LlmClient
from bot.llm.prompts import translate_messages
from bot.llm.wiring import grounded_answers
from bot.policy import Decision
from storage.llm_usage import LlmUsageRepository
from tests.llm.conftest import ask, llm_settings, offline_plan

QUESTION = "How do I track my order?"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scripted(*replies: Reply):
    """A behaviour that plays `replies` in order, then answers grounded from the strong entry."""
    queue = list(replies)

    def behaviour(request):
        if queue:
            return queue.pop(0)
        entry = next(e for e in payload_of(request)["entries"] if e["match"] == "strong")
        return Reply(json.dumps({"faq_id": entry["id"], "reply": "Composed: " + entry["answer"]}))

    return behaviour


def test_a_429_then_a_500_are_retried_and_the_third_try_answers(fake, llm_runtime, monkeypatch):
    fake.behaviour = scripted(Reply(status=429), Reply(status=500))
    monkeypatch.setattr(llm_runtime.settings, "llm_max_retries", 2)
    reply = ask(llm_runtime, QUESTION)
    assert len(fake.requests) == 3 and reply.replies[0].text.startswith("Composed: ")


def test_an_endpoint_that_keeps_failing_gets_the_offline_answer_every_time(fake, llm_runtime):
    fake.behaviour = lambda request: Reply(status=500)
    offline = offline_plan(llm_runtime, QUESTION, "en")
    for _ in range(2):
        reply = ask(llm_runtime, QUESTION)
        assert reply.decision == Decision.ANSWER and reply.replies[0].text == offline.text


def test_malformed_responses_leave_the_offline_answer(fake, llm_runtime):
    offline = offline_plan(llm_runtime, QUESTION, "en")
    for broken in (
        Reply(raw=b"{this is not json"),  # the HTTP body itself
        Reply("Sure! Your parcel is on its way."),  # prose instead of the JSON asked for
        Reply('{"faq_id": 42, "reply": ["not", "text"]}'),
        Reply('{"faq_id": "order_track", "reply": ""}'),
    ):
        fake.behaviour = lambda request, broken=broken: broken
        reply = ask(llm_runtime, QUESTION)
        assert reply.decision == Decision.ANSWER and reply.replies[0].text == offline.text, broken


def test_a_slow_model_is_cut_off_at_the_timeout_and_the_offline_answer_comes_in_time(
    fake, llm_runtime, monkeypatch, tmp_path
):
    # a deadline with no room for a second try
    hasty = client(fake, llm_runtime, tmp_path, llm_timeout_seconds=0.3, llm_deadline_seconds=0.5)
    monkeypatch.setattr(
        llm_runtime.engine,
        "composer",
        grounded_answers(hasty, llm_runtime.knowledge, llm_runtime.engine.texts, llm_runtime.business),
    )
    fake.behaviour = lambda request: Reply('{"faq_id": null, "reply": ""}', delay=2.0)
    started = time.perf_counter()
    reply = ask(llm_runtime, QUESTION)
    elapsed = time.perf_counter() - started
    assert reply.replies[0].text == offline_plan(llm_runtime, QUESTION, "en").text
    assert elapsed < 1.5 and len(fake.requests) == 1


def client(fake, llm_runtime, tmp_path, clock=None, **settings) -> LlmClient:
    return LlmClient(
        llm_settings(fake, tmp_path, **settings),
        LlmUsageRepository(llm_runtime.db),
        clock=clock or time.monotonic,
        sleep=lambda seconds: None,
    )


def test_the_circuit_breaker_stops_calling_a_dead_endpoint_and_tries_again_after_the_cool_down(
    fake, llm_runtime, tmp_path
):
    clock = FakeClock()
    llm = client(fake, llm_runtime, tmp_path, clock, llm_max_retries=0, llm_breaker_failures=3, llm_breaker_seconds=60)
    fake.behaviour = lambda request: Reply(status=500)
    messages = translate_messages(target_language="zh", text="hello")
    assert [llm.complete(messages, "translate") for _ in range(5)] == [None] * 5
    assert len(fake.requests) == 3 and llm.breaker.is_open  # the last two were never sent

    fake.behaviour = lambda request: Reply("你好")
    clock.now += 61
    assert llm.complete(messages, "translate").text == "你好"
    assert not llm.breaker.is_open and len(fake.requests) == 4


def test_over_the_daily_token_budget_no_call_is_made_until_the_next_day(fake, llm_runtime, tmp_path):
    today = "2031-01-01"

    def day() -> str:
        return today

    llm = LlmClient(
        llm_settings(fake, tmp_path, llm_daily_token_budget=10),
        LlmUsageRepository(llm_runtime.db),
        today=day,
    )
    fake.behaviour = lambda request: Reply("a translation long enough to cost tokens")
    messages = translate_messages(target_language="en", text="你好，请问运费多少钱？" * 3)
    assert llm.complete(messages, "translate") is not None  # spends more than the 10-token budget
    assert llm.over_budget() and llm.complete(messages, "translate") is None
    assert len(fake.requests) == 1
    today = "2031-01-02"
    assert not llm.over_budget() and llm.complete(messages, "translate") is not None


def test_over_budget_the_customer_gets_the_offline_answer(fake, llm_runtime, monkeypatch):
    monkeypatch.setattr(llm_runtime.settings, "llm_daily_token_budget", 1)
    reply = ask(llm_runtime, QUESTION)
    assert reply.replies[0].text == offline_plan(llm_runtime, QUESTION, "en").text
    assert fake.requests == [] or llm_runtime.llm.tokens_today < 1
