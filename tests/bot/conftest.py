from __future__ import annotations

import itertools

import pytest

from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings


@pytest.fixture(scope="session")
def runtime(tmp_path_factory) -> Runtime:
    """A real runtime on a fresh data dir, seeded with the demo knowledge base (embedded once per session)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), knowledge_recheck_seconds=0)
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def staffed(runtime):
    """A desk is on duty for this test, so handoffs open (without one, the customer is told nobody is there)."""
    runtime.handoff.availability.staffed("test-desk")
    yield runtime
    runtime.handoff.availability.unstaffed("test-desk")


_users = itertools.count()


@pytest.fixture
def customer() -> str:
    """A platform user id nobody else in the test session uses."""
    return f"user-{next(_users)}"


def message(user: str, text: str, message_id: str | None = None, **extra) -> InboundMessage:
    return InboundMessage(
        platform="test", platform_user_id=user, chat_id=user, message_id=message_id, text=text, **extra
    )
