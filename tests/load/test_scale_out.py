"""Load runs against real `run.py serve` processes (`make loadtest`; not part of `make test`).

Each run prints one line: delivered / duplicated / lost / reordered, or msg/s, reply p50/p95 and the server's
CPU time per message (the load-independent figure on a shared machine). Loopback only, bounded in time;
LOAD_CHATS, LOAD_SECONDS and LOAD_API_DELAY_MS scale them.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.adapters.conftest import AppServer
from tests.adapters.telegram_fake import FakeTelegram
from tests.load.closed_loop import run_closed_loop
from tests.load.harness import (
    chroma_server,
    chroma_server_process,
    compare,
    postgres_backends_cpu_seconds,
    postgres_database,
    process_cpu_seconds,
    serve_process,
)
from tests.load.telegram_load import (
    english_questions,
    expected_replies,
    post,
    sent_pairs,
    telegram_env,
    wait_for,
    without_calibration,
)

pytestmark = pytest.mark.load

BURST_CHATS = int(os.environ.get("LOAD_CHATS", "200"))  # x 5 messages: the 1,000-message burst
SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
PROCESSES = int(os.environ.get("LOAD_PROCESSES", "1"))


def test_two_serve_processes_on_postgresql_and_a_chroma_server_keep_every_chat_in_order(tmp_path):
    fake = FakeTelegram()
    questions = english_questions(5)
    with (
        AppServer(fake.app) as api,
        postgres_database() as database_url,
        chroma_server(tmp_path / "chroma") as chroma_url,
    ):
        env = {**telegram_env(api.url), "DATABASE_URL": database_url, "CHROMA_URL": chroma_url}
        with (
            serve_process(env, tmp_path / "first", from_template=False) as first,  # index in the Chroma server
            serve_process(env, tmp_path / "second", from_template=False) as second,
            httpx.Client(timeout=60) as client,
        ):
            expected_texts = expected_replies(fake, client, first.url, questions)

            def burst(user_id: int) -> int:
                errors = 0
                for n, question in enumerate(questions):  # in order, alternating processes, as fast as possible
                    errors += post(client, (first, second)[(user_id + n) % 2].url, user_id, question) >= 500
                return errors

            chats = list(range(1000, 1000 + BURST_CHATS))
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                http_errors = sum(pool.map(burst, chats))
            total = BURST_CHATS * len(expected_texts) + len(expected_texts)
            wait_for(lambda: len(sent_pairs(fake)) >= total, 300)
            seconds = time.monotonic() - started
            time.sleep(3.0)  # room for a (wrong) duplicate to show up
    expected = {str(chat): expected_texts for chat in chats}
    report = compare(expected, without_calibration(fake), http_errors)
    print(f"\ntwo processes, burst of {BURST_CHATS * len(questions)} messages in {seconds:.1f} s: {report.line()}")
    assert (report.duplicated, report.lost, report.reordered_chats, report.http_errors) == (0, 0, 0, 0)


@pytest.mark.parametrize("api_delay_ms", [0, int(os.environ.get("LOAD_API_DELAY_MS", "100"))])
def test_closed_loop_telegram_customers_on_one_node(tmp_path, api_delay_ms):
    """One `serve` on SQLite and embedded Chroma, or with LOAD_PROCESSES=N, N of them behind a round-robin proxy
    on one PostgreSQL and one `chroma run` (all on this node; their CPU time counts as the server's)."""
    fake = FakeTelegram()
    fake.send_delay_seconds = api_delay_ms / 1000
    with contextlib.ExitStack() as stack:
        env = telegram_env(stack.enter_context(AppServer(fake.app)).url)
        helpers = None
        if PROCESSES > 1:
            database_url = stack.enter_context(postgres_database())
            chroma_url, chroma = stack.enter_context(chroma_server_process(tmp_path / "chroma"))
            env |= {"DATABASE_URL": database_url, "CHROMA_URL": chroma_url}

            def helpers() -> float:
                return postgres_backends_cpu_seconds(database_url) + process_cpu_seconds(chroma.pid)

        servers = [
            stack.enter_context(
                serve_process(
                    env, tmp_path / f"node{n}", from_template=PROCESSES == 1, sql_counts=tmp_path / f"sql{n}.json"
                )
            )
            for n in range(PROCESSES)
        ]
        result = run_closed_loop(fake, servers, english_questions(10), seconds=SECONDS, extra_cpu=helpers)
    print("\n" + result.line())
    assert result.replies
