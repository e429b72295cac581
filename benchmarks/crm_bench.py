"""The CRM's share of a customer message, without the embedding: reading the conversation before answering,
logging the exchange, opening a handoff with its summary, and the emotion rules after a negative message from
a customer with a long month — on SQLite (default) or an empty database at DATABASE_URL.

    .venv/bin/python -m benchmarks.crm_bench [--messages 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.engine_bench import percentile
from bot.emotion_watch import EmotionWatch
from bot.handoff.service import HandoffService
from bot.handoff.triggers import TriggerHit
from bot.outbox import Outbox
from storage.conversations import ConversationLog, LoggedMessage
from storage.db import Database
from storage.emotions import EmotionStore
from storage.handoffs import HandoffRepository
from storage.models import utcnow

CUSTOMERS = 50


def exchange(log: ConversationLog, i: int) -> tuple[float, float]:
    """One message as the engine logs it: the snapshot before answering, then the exchange; both timed."""
    user = f"customer-{i % CUSTOMERS}"
    started = time.perf_counter()
    snapshot = log.snapshot("bench", user, f"m{i}")
    read = time.perf_counter()
    log.record_exchange(
        "bench",
        user,
        user,
        None,
        LoggedMessage(
            "in",
            "我的花呗怎么还款，还款日是哪天？",
            language="zh",
            platform_message_id=f"m{i}",
            emotion_label="neutral",
            emotion_intensity=0.1,
            faq_id="repay",
            score=0.7,
            decision="answer",
        ),
        [LoggedMessage("out", "在支付宝“我的”页面进入花呗，点击“还款”即可。" * 3, language="zh", faq_id="repay")],
        known=snapshot,
    )
    return (read - started) * 1e3, (time.perf_counter() - read) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'crm.sqlite3'}")
        db.migrate()
        log = ConversationLog(db)
        for i in range(200):  # warm-up: every customer has a conversation with history
            exchange(log, -1 - i)
        reads, writes = zip(*(exchange(log, i) for i in range(args.messages)), strict=True)
        totals = [r + w for r, w in zip(reads, writes, strict=True)]

        service = HandoffService(HandoffRepository(db), Outbox(db))
        hit = TriggerHit("anger", {"message": "我的花呗怎么还款"})
        opens = []
        for i in range(CUSTOMERS):
            snapshot = log.snapshot("bench", f"customer-{i}", None)
            started = time.perf_counter()
            handoff_id = service.open(snapshot.customer_id, snapshot.conversation_id, hit)
            opens.append((time.perf_counter() - started) * 1e3)
            service.repository.resolve(handoff_id, "bench-agent", "resolved", utcnow())

        # one customer with 200 tagged messages in the rules' window, then negative messages
        watch, regular = EmotionWatch(EmotionStore(db)), "regular-customer"
        for i in range(200):
            snapshot = log.snapshot("bench", regular, None)
            tagged = LoggedMessage("in", "又没到货", language="zh", emotion_label="anger" if i % 2 else "neutral")
            latest = log.record_exchange("bench", regular, regular, None, tagged, [], known=snapshot)
        rules = []
        for _ in range(CUSTOMERS):
            started = time.perf_counter()
            watch.after_exchange(latest.customer_id, latest.conversation_id, "anger")
            rules.append((time.perf_counter() - started) * 1e3)
        db.dispose()

    print("| step | n | p50 | p95 |")
    print("|---|---|---|---|")
    for name, values in (
        ("read the conversation (snapshot)", reads),
        ("log the exchange (2 messages)", writes),
        ("both", totals),
        ("open a handoff with its summary", opens),
        ("emotion rules after a negative message (200 tagged in the month)", rules),
    ):
        print(f"| {name} | {len(values)} | {percentile(values, 0.5):.2f} ms | {percentile(values, 0.95):.2f} ms |")


if __name__ == "__main__":
    main()
