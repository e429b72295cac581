"""A large, deterministic CRM history for the insights benchmark: customers on one to three channels, zh/en,
three tiers, conversations of a few exchanges over a year, emotions, handoffs with claims, closes and ratings.

    .venv/bin/python -m benchmarks.insights_fixture --messages 1000000 --customers 100000 [--db URL]

Without --db it writes DATABASE_URL, or a SQLite file named by --sqlite (default data/insights-bench.db).
Bulk inserts in batches; the same seed gives the same rows.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from storage.db import Database
from storage.models import Conversation, Customer, FaqRecord, Handoff, Identity, Message

END = datetime(2026, 12, 1, tzinfo=UTC)
CHANNELS = ("web", "telegram", "wechat")
TAGS = ("orders", "refunds", "payments", "account", "delivery", "returns", "coupons", "membership")
EMOTIONS = (("neutral", 55), ("joy", 15), ("anger", 12), ("anxiety", 10), ("sadness", 8))
DECISIONS = (("answer", 72), ("no_answer", 12), ("clarify", 10), ("handoff", 6))
REASONS = ("anger", "keyword", "failed_turns", "vip", "sensitive_topic")
BATCH = 20_000


def _weighted(rng: random.Random, table):
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _flush(db: Database, model, rows: list[dict]) -> None:
    if rows:
        with db.engine.begin() as connection:
            connection.execute(insert(model.__table__), rows)
        rows.clear()


def generate(db: Database, messages: int, customers: int, days: int = 365, seed: int = 16) -> dict[str, int]:
    rng = random.Random(seed)
    faqs = [f"faq_{i:03d}" for i in range(60)]
    with db.engine.begin() as connection:
        connection.execute(
            insert(FaqRecord.__table__),
            [
                {
                    "id": f,
                    "questions": [f],
                    "answer": f,
                    "tags": [TAGS[i % len(TAGS)]] if i % 7 else [],
                    "revision": 1,
                    "updated_at": END,
                }
                for i, f in enumerate(faqs)
            ],
        )
    people, identities = [], []
    channels_of: list[tuple[str, ...]] = []
    for i in range(customers):
        language = "zh" if rng.random() < 0.6 else "en"
        tier = rng.choices(("standard", "gold", "vip"), weights=(80, 12, 8))[0]
        first = END - timedelta(days=rng.uniform(0, days))
        people.append(
            {
                "id": i + 1,
                "display_name": f"customer {i + 1}",
                "tier": tier,
                "language": language,
                "email": f"c{i + 1}@example.com" if i % 3 == 0 else None,
                "phone": f"+86138{i:08d}" if i % 3 == 1 else None,
                "created_at": first,
                "last_seen_at": END,
            }
        )
        used = tuple(rng.sample(CHANNELS, rng.choices((1, 2, 3), weights=(70, 25, 5))[0]))
        channels_of.append(used)
        identities += [
            {"customer_id": i + 1, "platform": c, "platform_user_id": f"{c}-{i + 1}", "created_at": first} for c in used
        ]
        if len(people) >= BATCH:
            _flush(db, Customer, people)
    _flush(db, Customer, people)
    for start in range(0, len(identities), BATCH):
        _flush(db, Identity, identities[start : start + BATCH])

    exchanges = messages // 2
    per_conversation = 5
    conversations = max(1, exchanges // per_conversation)
    conv_rows, message_rows, handoff_rows = [], [], []
    message_id = handoff_id = 0
    for c in range(1, conversations + 1):
        customer = rng.randrange(customers) + 1
        platform = rng.choice(channels_of[customer - 1])
        language = "zh" if rng.random() < 0.6 else "en"
        started = END - timedelta(seconds=rng.uniform(0, days * 86400))
        conv_rows.append(
            {
                "id": c,
                "customer_id": customer,
                "platform": platform,
                "chat_id": None,
                "state": "closed",
                "at_risk": False,
                "started_at": started,
                "last_message_at": started,
            }
        )
        when = started
        handed_off = None
        for turn in range(per_conversation):
            decision = "held_for_agent" if handed_off else _weighted(rng, DECISIONS)
            faq = rng.choice(faqs) if decision == "answer" or (decision == "clarify" and rng.random() < 0.5) else None
            emotion = _weighted(rng, EMOTIONS)
            message_id += 1
            message_rows.append(
                {
                    "id": message_id,
                    "conversation_id": c,
                    "customer_id": customer,
                    "direction": "in",
                    "platform": platform,
                    "platform_message_id": f"b{message_id}",
                    "text": f"question {turn} about {faq or 'something'}",
                    "language": language,
                    "emotion_label": emotion,
                    "emotion_intensity": round(rng.random(), 2),
                    "emotion_signals": None,
                    "faq_id": faq,
                    "score": 0.8,
                    "decision": decision,
                    "created_at": when,
                    "content_type": None,
                }
            )
            message_id += 1
            message_rows.append(
                {
                    "id": message_id,
                    "conversation_id": c,
                    "customer_id": customer,
                    "direction": "out",
                    "platform": platform,
                    "platform_message_id": None,
                    "text": "an answer",
                    "language": language,
                    "emotion_label": None,
                    "emotion_intensity": None,
                    "emotion_signals": None,
                    "faq_id": faq,
                    "score": None,
                    "decision": "agent" if handed_off else decision,
                    "created_at": when,
                    "content_type": None,
                }
            )
            if decision == "handoff" and handed_off is None:
                handed_off = when
                handoff_id += 1
                claimed = when + timedelta(seconds=rng.expovariate(1 / 400)) if rng.random() < 0.9 else None
                resolved = claimed + timedelta(seconds=rng.expovariate(1 / 2400)) if claimed else None
                handoff_rows.append(
                    {
                        "id": handoff_id,
                        "conversation_id": c,
                        "customer_id": customer,
                        "reason": rng.choice(REASONS),
                        "summary": "generated",
                        "evidence": None,
                        "status": "resolved" if resolved else "requested",
                        "agent": f"agent-{rng.randrange(12)}" if claimed else None,
                        "rating": rng.randint(1, 5) if resolved and rng.random() < 0.6 else None,
                        "requested_at": when,
                        "claimed_at": claimed,
                        "resolved_at": resolved,
                        "outcome": "resolved" if resolved else None,
                    }
                )
            when += timedelta(seconds=rng.uniform(20, 600))
        if len(message_rows) >= BATCH:
            _flush(db, Conversation, conv_rows)
            _flush(db, Message, message_rows)
            _flush(db, Handoff, handoff_rows)
    _flush(db, Conversation, conv_rows)
    _flush(db, Message, message_rows)
    _flush(db, Handoff, handoff_rows)
    _reset_sequences(db)
    return {"customers": customers, "conversations": conversations, "messages": message_id, "handoffs": handoff_id}


def _reset_sequences(db: Database) -> None:
    """Rows were inserted with their ids: PostgreSQL's sequences must move past them."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as connection:
        for table in ("customer", "identity", "conversation", "message", "handoff"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        connection.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--db", help="SQLAlchemy URL (default DATABASE_URL, else --sqlite)")
    parser.add_argument("--sqlite", type=Path, default=Path("data/insights-bench.db"))
    args = parser.parse_args()
    url = args.db or os.environ.get("DATABASE_URL") or f"sqlite:///{args.sqlite}"
    if url.startswith("sqlite"):
        args.sqlite.unlink(missing_ok=True)
    db = Database(url)
    db.migrate()
    started = time.perf_counter()
    counts = generate(db, args.messages, args.customers, args.days, args.seed)
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(f"{counts} in {time.perf_counter() - started:.0f} s at {url.split('@')[-1]}")
    db.dispose()


if __name__ == "__main__":
    main()
