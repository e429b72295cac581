"""Telegram customers for the load and fault runs: webhook posts to a real server, replies read from the fake API."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import httpx

from tests.adapters.telegram_fake import TOKEN, FakeTelegram, text_update

SECRET = "load-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
DEMO_KB = Path(__file__).resolve().parents[2] / "knowledge" / "demo_kb.jsonl"


def english_questions(count: int) -> list[str]:
    entries = [json.loads(line) for line in DEMO_KB.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [
        next(q for q in e["questions"] if q.isascii()) for e in entries if any(q.isascii() for q in e["questions"])
    ]
    return questions[:count]


def telegram_env(api_url: str, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": api_url,
        "WARMDESK_REPLY_DEADLINE_SECONDS": "30",  # measure the load, not the honest-503 path
        # The customers cycle through 10 questions: a query-vector cache would serve nearly every message and
        # hide the embedding's cost. Off unless LOAD_EMBED_QUERY_CACHE says otherwise (e.g. 4096, the default).
        "WARMDESK_EMBED_QUERY_CACHE": os.environ.get("LOAD_EMBED_QUERY_CACHE", "0"),
        **extra,
    }


def sent_pairs(fake: FakeTelegram) -> list[tuple[str, str]]:
    with fake._lock:
        return [(str(m["chat_id"]), m["text"]) for m in fake.sent]


def sent_to(fake: FakeTelegram, chat: int) -> int:
    with fake._lock:
        return sum(1 for m in fake.sent if str(m["chat_id"]) == str(chat))


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def post(client: httpx.Client, server: str, user_id: int, text: str) -> int:
    return post_update(client, server, text_update(text, user_id=user_id))


def post_update(client: httpx.Client, server: str, update: dict) -> int:
    return client.post(f"{server}/telegram/webhook", json=update, headers=HEADERS).status_code


def post_until_taken(client: httpx.Client, servers, update: dict, seconds: float = 60) -> None:
    """As Telegram does: the same update again until a server answers 200 (a 503, or a server that is down)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        server = servers() if callable(servers) else servers
        with contextlib.suppress(httpx.HTTPError):
            if post_update(client, server, update) == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"update {update['update_id']} was never taken")


def expected_replies(fake: FakeTelegram, client: httpx.Client, server: str, questions: list[str]) -> list[str]:
    """The replies one customer gets to `questions`, asked one at a time (what every chat should receive)."""
    calibration = 1
    for question in questions:
        before = sent_to(fake, calibration)
        assert post(client, server, calibration, question) == 200
        assert wait_for(lambda before=before: sent_to(fake, calibration) > before, 30)
    time.sleep(1.0)  # a reply that comes in two messages
    replies = [text for chat, text in sent_pairs(fake) if chat == str(calibration)]
    assert len(set(replies)) == len(replies), "pick questions whose replies differ, or order cannot be checked"
    return replies


def without_calibration(fake: FakeTelegram) -> list[tuple[str, str]]:
    return [pair for pair in sent_pairs(fake) if pair[0] != "1"]
