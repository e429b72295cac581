"""Load and fault runs against real `run.py serve` processes (`make loadtest`; not part of `make test`).

Each run prints one line: delivered / duplicated / lost / reordered (and msg/s for the closed loop). Loopback
only, bounded in time; LOAD_CHATS, LOAD_SECONDS and LOAD_API_DELAY_MS scale them.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.adapters.conftest import AppServer
from tests.adapters.telegram_fake import TOKEN, FakeTelegram, text_update
from tests.load.harness import chroma_server, compare, postgres_database, serve_process

pytestmark = pytest.mark.load

SECRET = "load-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
DEMO_KB = Path(__file__).resolve().parents[2] / "knowledge" / "demo_kb.jsonl"
CHATS = int(os.environ.get("LOAD_CHATS", "40"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))


def english_questions(count: int) -> list[str]:
    entries = [json.loads(line) for line in DEMO_KB.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [
        next(q for q in e["questions"] if q.isascii()) for e in entries if any(q.isascii() for q in e["questions"])
    ]
    return questions[:count]


def telegram_env(api_url: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": api_url,
        "WARMDESK_REPLY_DEADLINE_SECONDS": "30",  # measure the load, not the honest-503 path
    }


def sent_pairs(fake: FakeTelegram) -> list[tuple[str, str]]:
    with fake._lock:
        return [(str(m["chat_id"]), m["text"]) for m in fake.sent]


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def post(client: httpx.Client, server: str, user_id: int, text: str) -> int:
    return client.post(
        f"{server}/telegram/webhook", json=text_update(text, user_id=user_id), headers=HEADERS
    ).status_code


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
            serve_process(env, tmp_path / "first") as first,
            serve_process(env, tmp_path / "second") as second,
            httpx.Client(timeout=60) as client,
        ):
            calibration = 1
            for question in questions:  # one customer, one message at a time: the replies to expect
                before = len(sent_pairs(fake))
                assert post(client, first, calibration, question) == 200
                assert wait_for(lambda before=before: len(sent_pairs(fake)) > before, 30)
            time.sleep(1.0)
            expected_texts = [text for chat, text in sent_pairs(fake) if chat == str(calibration)]

            def burst(user_id: int) -> int:
                errors = 0
                for n, question in enumerate(questions):  # in order, alternating processes, as fast as possible
                    errors += post(client, (first, second)[(user_id + n) % 2], user_id, question) >= 500
                return errors

            chats = list(range(1000, 1000 + CHATS))
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                http_errors = sum(pool.map(burst, chats))
            total = CHATS * len(expected_texts) + len(expected_texts)
            wait_for(lambda: len(sent_pairs(fake)) >= total, 120)
            seconds = time.monotonic() - started
            time.sleep(3.0)  # room for a (wrong) duplicate to show up
    expected = {str(chat): expected_texts for chat in chats}
    report = compare(expected, [p for p in sent_pairs(fake) if p[0] != str(calibration)], http_errors)
    print(f"\ntwo processes, burst of {CHATS * len(questions)} messages in {seconds:.1f} s: {report.line()}")
    assert (report.duplicated, report.lost, report.reordered_chats, report.http_errors) == (0, 0, 0, 0)


@pytest.mark.parametrize("api_delay_ms", [0, int(os.environ.get("LOAD_API_DELAY_MS", "100"))])
def test_closed_loop_telegram_customers_on_one_node(tmp_path, api_delay_ms):
    fake = FakeTelegram()
    fake.send_delay_seconds = api_delay_ms / 1000
    questions = english_questions(10)
    customers = 50
    latencies: list[float] = []
    lock = threading.Lock()
    with AppServer(fake.app) as api, serve_process(telegram_env(api.url), tmp_path / "node") as server:
        stop_at = time.monotonic() + SECONDS

        def customer(user_id: int) -> None:
            with httpx.Client(timeout=60) as client:
                n = 0
                while time.monotonic() < stop_at:
                    before = sum(1 for chat, _ in sent_pairs(fake) if chat == str(user_id))
                    started = time.monotonic()
                    assert post(client, server, user_id, questions[n % len(questions)]) == 200
                    if not wait_for(
                        lambda before=before: sum(1 for chat, _ in sent_pairs(fake) if chat == str(user_id)) > before,
                        30,
                    ):
                        return
                    with lock:
                        latencies.append(time.monotonic() - started)
                    n += 1

        threads = [threading.Thread(target=customer, args=(2000 + i,)) for i in range(customers)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    print(
        f"\nclosed loop, {customers} Telegram customers, API round trip {api_delay_ms} ms: "
        f"{len(latencies) / elapsed:.1f} msg/s, reply p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms ({len(latencies)} replies in {elapsed:.1f} s)"
    )
    assert latencies
