from __future__ import annotations

import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.conftest import (
    LiveServer,
    browser,  # noqa: F401 (the shared Chromium, for the browser tests)
)
from tests.handoff.live import AGENT_TOKEN
from tests.staff.helpers import add_accounts


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory):
    # argon2 takes most of a second per check on a busy machine: a low address limit keeps the tests quick
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("staff"), agent_token=AGENT_TOKEN, login_max_failures_per_address=8
    )
    runtime = Runtime.open(settings)
    add_accounts(runtime)
    live = LiveServer(runtime)
    live.start()
    yield live, runtime
    live.stop()
    runtime.close()


@pytest.fixture
def auth(staff_server):
    """The running app's sign-in (its clock can be moved)."""
    return staff_server[0].app.state.staff_auth
