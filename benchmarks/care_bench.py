"""Relationship care at scale: the nightly RFM over 100,000 customers / 1,000,000 orders (target ≤ 60 s) and
picking due jobs out of 100,000 scheduled ones (target ≤ 50 ms per batch on PostgreSQL).

    .venv/bin/python -m benchmarks.care_bench                      # SQLite in a temporary folder
    .venv/bin/python -m benchmarks.care_bench --postgres URL       # a throwaway database on that server

The fixture is generated here (random but seeded): nothing is read from outside.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import insert

from bot.business import load_business_file
from bot.care.wiring import open_segments
from storage.db import Database
from storage.jobs import JobRepository
from storage.models import Customer, CustomerOrder, ScheduledJob


def fill_orders(db: Database, customers: int, orders: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with db.session() as session:
        for start in range(0, customers, 20_000):
            session.execute(
                insert(Customer),
                [{"display_name": f"c{n}", "tier": "standard", "created_at": now, "last_seen_at": now}
                 for n in range(start, min(customers, start + 20_000))],
            )  # fmt: skip
    rows = []
    with db.session() as session:
        for n in range(orders):
            rows.append(
                {
                    # every customer orders at least once; the rest go mostly to a few (a long tail)
                    "customer_id": n + 1 if n < customers else 1 + int(rng.paretovariate(1.2) * 997) % customers,
                    "external_id": f"o{n}",
                    "ordered_at": now - timedelta(days=rng.random() * 720),
                    "amount": round(rng.lognormvariate(4, 1), 2),
                }
            )
            if len(rows) == 50_000:
                session.execute(insert(CustomerOrder), rows)
                rows = []
        if rows:
            session.execute(insert(CustomerOrder), rows)


def fill_jobs(db: Database, count: int, due_share: float = 0.01) -> None:
    now = datetime.now(UTC)
    rng = random.Random(3)
    with db.session() as session:
        rows = [
            {
                "kind": "followup.checkin",
                "payload": {},
                "status": "pending",
                "due_at": now - timedelta(minutes=1)
                if rng.random() < due_share
                else now + timedelta(days=rng.random() * 30),
                "attempts": 0,
                "max_attempts": 6,
                "created_by": "bench",
                "created_at": now,
            }
            for _ in range(count)
        ]  # fmt: skip
        for start in range(0, count, 20_000):
            session.execute(insert(ScheduledJob), rows[start : start + 20_000])


def bench(db: Database, customers: int, orders: int, jobs: int) -> None:
    t0 = time.perf_counter()
    fill_orders(db, customers, orders)
    print(f"fixture: {customers:,} customers, {orders:,} orders in {time.perf_counter() - t0:.1f} s", flush=True)
    segments = open_segments(load_business_file(), db, ZoneInfo("UTC"))
    cpu = time.process_time()
    run = segments.compute()
    cpu = time.process_time() - cpu  # with SQLite the database works in this process too
    print(
        f"RFM nightly: {run.customers:,} customers with orders in {run.seconds:.1f} s wall, {cpu:.1f} s CPU of "
        f"this process; tiers {run.tiers}",
        flush=True,
    )

    fill_jobs(db, jobs)
    repository = JobRepository(db)
    timings = []
    while True:
        start = time.perf_counter()
        claimed = repository.claim_due(datetime.now(UTC), 50, timedelta(minutes=5), "bench")
        timings.append((time.perf_counter() - start) * 1e3)
        if len(claimed) < 50:
            break
    print(
        f"claim due jobs out of {jobs:,}: {len(timings)} batches of up to 50, "
        f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server; a throwaway database is made there")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=100_000)
    args = parser.parse_args()
    if args.postgres:
        name = f"warmdesk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        db = Database(f"{base}/{name}")
        try:
            db.migrate()
            bench(db, args.customers, args.orders, args.jobs)
        finally:
            db.dispose()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        db.migrate()
        bench(db, args.customers, args.orders, args.jobs)
        db.dispose()


if __name__ == "__main__":
    main()
