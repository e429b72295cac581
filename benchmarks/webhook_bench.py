"""What the Telegram and WeChat webhooks add on top of the engine: p50/p95/p99 per request, in milliseconds.

The engine is replaced by one that answers at once, so every millisecond measured is the adapter's: HTTP
routing and the body-size limit, secret/signature checks, JSON or XML parsing (and AES in WeChat's safe mode),
translation, the outbox insert (Telegram) or the passive reply (WeChat). Requests go through the ASGI app
in-process (httpx.ASGITransport), so the loopback TCP stack is not counted.

    .venv/bin/python -m benchmarks.webhook_bench --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from telegram import Bot

from adapters.body_limit import BodySizeLimit
from adapters.telegram import SECRET_HEADER, TelegramChannel
from adapters.wechat import WeChatChannel
from adapters.wechat_crypto import CallbackCrypto
from bot.engine import EngineReply
from bot.messages import InboundMessage, OutboundMessage
from bot.outbox import Outbox
from storage.db import Database
from tests.adapters.telegram_fake import text_update
from tests.adapters.wechat_fake import (
    SAMPLE_AES_KEY,
    SAMPLE_APP_ID,
    SAMPLE_TOKEN,
    encrypted_request,
    signed_query,
    text_xml,
)

SECRET = "bench-secret"
ANSWER = "订单发货后，您可以在“我的订单”里查看物流单号和实时轨迹。" * 3


class InstantEngine:
    """Answers every message at once, so the measured time is the adapter's alone."""

    def welcome(self, language: str | None = None) -> str:
        return "hello"

    async def handle(self, message: InboundMessage, *, queue_replies: bool = False) -> EngineReply:
        # With queue_replies the real engine writes the outbox rows inside its own logging transaction,
        # so that write is engine time, not adapter time (measure_enqueue shows what it costs).
        reply = OutboundMessage(message.platform, message.platform_user_id, ANSWER, "zh", chat_id=message.chat_id)
        return EngineReply([reply], "zh", decision="answer")


def build_app(db: Database) -> FastAPI:
    engine, outbox = InstantEngine(), Outbox(db)
    telegram = TelegramChannel(Bot("123:bench", base_url="http://127.0.0.1:9/bot"), engine, outbox, SECRET)
    crypto = CallbackCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
    wechat = WeChatChannel(crypto, engine, outbox)
    app = FastAPI()
    app.add_middleware(BodySizeLimit, max_bytes=256 * 1024)
    app.include_router(telegram.router())
    app.include_router(wechat.router())
    return app


async def measure(client: httpx.AsyncClient, make_request, count: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per request; CPU time is what the adapter costs even on a busy machine."""
    wall, cpu = [], []
    for _ in range(count):
        url, body, headers = make_request()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = await client.post(url, content=body, headers=headers)
        wall.append((time.perf_counter() - started) * 1e3)
        cpu.append((time.process_time() - started_cpu) * 1e3)
        assert response.status_code == 200, response.text
    return wall, cpu


def measure_enqueue(outbox: Outbox, count: int) -> tuple[list[float], list[float]]:
    """The durable write alone (one SQLite commit), which the Telegram webhook does for every answer."""
    wall, cpu = [], []
    for index in range(count):
        message = OutboundMessage("telegram", "1", ANSWER, "zh", chat_id="1")
        started, started_cpu = time.perf_counter(), time.process_time()
        outbox.enqueue(message, dedup_key=f"bench-enqueue:{index}")
        wall.append((time.perf_counter() - started) * 1e3)
        cpu.append((time.process_time() - started_cpu) * 1e3)
    return wall, cpu


def report(name: str, timings: tuple[list[float], list[float]]) -> None:
    wall, cpu = (statistics.quantiles(series, n=100) for series in timings)
    print(
        f"{name:<26} n={len(timings[0]):<5} wall p50={wall[49]:5.2f} p95={wall[94]:6.2f} p99={wall[98]:6.2f} ms"
        f" | cpu p50={cpu[49]:5.2f} p95={cpu[94]:5.2f} ms"
    )


async def main(count: int, warmup: int) -> None:
    ids = itertools.count(1)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.migrate()
        app = build_app(db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            def telegram():
                body = httpx.Request("POST", "/", json=text_update("运费怎么算？", user_id=next(ids))).content
                return "/telegram/webhook", body, {SECRET_HEADER: SECRET, "content-type": "application/json"}

            def wechat_plain():
                return f"/wechat?{signed_query()}", text_xml("运费怎么算？", f"o-{next(ids)}").encode(), {}

            def wechat_safe():
                query, body = encrypted_request(text_xml("运费怎么算？", f"o-{next(ids)}"))
                return f"/wechat?{query}", body.encode(), {}

            for name, make in (
                ("telegram webhook", telegram),
                ("wechat plaintext", wechat_plain),
                ("wechat safe mode (AES)", wechat_safe),
            ):
                await measure(client, make, warmup)
                report(name, await measure(client, make, count))
        report("  of which outbox insert", measure_enqueue(Outbox(db), count))
        db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.warmup))
