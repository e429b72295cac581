"""A locked or hung database: chat endpoints answer an honest 503 within 2 s, /healthz stays up, /readyz says
why it is not ready, and everything recovers by itself once the database answers again."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.conftest import LiveServer
from tests.conftest import POSTGRES_ADMIN_URL
from tests.faults.proxy import HoldingProxy

HONEST_ERROR_SECONDS = 2.5  # the 2 s reply deadline, plus the round trip on a busy machine


def chat(client: httpx.Client, text: str = "How do I reset my password?") -> httpx.Response:
    return client.post("/api/chat", json={"session_id": uuid.uuid4().hex, "text": text})


def timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_sqlite_write_lock_held_by_another_process_gives_503_in_time_and_then_recovers(live_runtime):
    database_file = live_runtime.settings.data_dir / "warmdesk.db"
    with LiveServer(live_runtime) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert chat(client).status_code == 200
        other = sqlite3.connect(database_file, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long `kb import` in another process would
        try:
            refused, seconds = timed(lambda: chat(client))
            health, health_seconds = timed(lambda: client.get("/healthz"))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert refused.status_code == 503 and refused.json()["error"] == "busy"
        assert refused.headers["retry-after"] and seconds < HONEST_ERROR_SECONDS
        assert health.status_code == 200 and health_seconds < 0.5
        answered = chat(client)
        assert answered.status_code == 200 and answered.json()["replies"]


@pytest.fixture(scope="module")
def postgres_behind_proxy(tmp_path_factory) -> Iterator[tuple[Runtime, HoldingProxy]]:
    name = f"warmdesk_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    proxy = HoldingProxy("127.0.0.1", 5432)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("hung-postgres"),
        database_url=f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}",
        seed_demo_kb=False,  # an empty knowledge base opens in a moment; the bot still answers honestly
    )
    runtime = Runtime.open(settings)
    yield runtime, proxy
    proxy.release()
    runtime.close()
    proxy.close()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_hung_postgresql_gives_503_in_time_readyz_says_so_and_it_recovers(postgres_behind_proxy):
    runtime, proxy = postgres_behind_proxy
    with LiveServer(runtime) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert chat(client).status_code == 200
        assert client.get("/readyz").json()["status"] == "ready"
        proxy.hold()
        try:
            refused, seconds = timed(lambda: chat(client))
            session = {"session_id": uuid.uuid4().hex}
            polled, poll_seconds = timed(lambda: client.get("/api/chat/updates", params=session))
            history, history_seconds = timed(lambda: client.get("/api/chat/history", params=session))
            not_ready, ready_seconds = timed(lambda: client.get("/readyz"))
            health, health_seconds = timed(lambda: client.get("/healthz"))
            welcome = client.get("/api/chat/welcome")
        finally:
            proxy.release()
        assert refused.status_code == 503 and seconds < HONEST_ERROR_SECONDS
        assert polled.status_code == 503 and poll_seconds < HONEST_ERROR_SECONDS  # the page's poll and reload
        assert history.status_code == 503 and history_seconds < HONEST_ERROR_SECONDS
        assert not_ready.status_code == 503 and ready_seconds < HONEST_ERROR_SECONDS
        assert not_ready.json() == {"status": "not ready", "reason": "database: no answer within 2 s"}
        assert health.status_code == 200 and health_seconds < 0.5
        assert welcome.status_code == 200
        answered = chat(client)
        assert answered.status_code == 200 and answered.json()["replies"]
        assert client.get("/readyz").status_code == 200
        assert client.get("/api/chat/history", params=session).status_code == 200
