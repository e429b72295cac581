"""The LLM mode against a fake OpenAI-compatible server on loopback, through the real openai SDK and langchain."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from benchmarks.fake_llm_server import FakeLlm, grounded, payload_of
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings

AGENT_TOKEN = "copilot-test-token"


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLlm]:
    fake = FakeLlm().start()
    yield fake
    fake.stop()


def llm_settings(fake: FakeLlm, data_dir, **overrides) -> Settings:
    values = dict(
        data_dir=data_dir,
        knowledge_recheck_seconds=0,
        llm_base_url=fake.base_url,
        llm_api_key="test-key",
        llm_model="fake-model",
        llm_timeout_seconds=2.0,
        llm_deadline_seconds=3.0,
    )
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def llm_runtime(fake_llm, tmp_path_factory) -> Iterator[Runtime]:
    runtime = Runtime.open(llm_settings(fake_llm, tmp_path_factory.mktemp("llm-data"), agent_token=AGENT_TOKEN))
    yield runtime
    runtime.close()


@pytest.fixture
def fake(fake_llm, llm_runtime) -> Iterator[FakeLlm]:
    """The shared fake, answering grounded, with no requests recorded and the runtime's breaker closed."""
    llm_runtime.handoff.after_open.__self__.flush()  # no summary of an earlier test's handoff still on its way
    fake_llm.behaviour = grounded
    fake_llm.requests.clear()
    llm_runtime.llm.breaker.succeeded()
    yield fake_llm
    fake_llm.behaviour = grounded


def answer_requests(fake: FakeLlm) -> list[dict]:
    """The answer prompts the fake received, oldest first (a handoff's summary may arrive in between)."""
    return [r for r in fake.requests if "message" in (payload_of(r) or {})]


_users = itertools.count()


def ask(runtime: Runtime, text: str, user: str | None = None, **extra):
    user = user or f"llm-user-{next(_users)}"
    return runtime.engine.handle_sync(
        InboundMessage(platform="test", platform_user_id=user, chat_id=user, text=text, **extra)
    )


def offline_plan(runtime: Runtime, text: str, language: str):
    """What the bot decides for `text` without the LLM: retrieval + policy, as the engine runs them."""
    from bot import policy

    retrieval = runtime.knowledge.search(text, runtime.embedder.query(text))
    return policy.plan_reply(retrieval, language, runtime.knowledge.entry, runtime.engine.texts)
