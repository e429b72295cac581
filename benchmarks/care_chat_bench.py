"""Chat latency with and without 100,000 pending scheduled jobs: the real app (web chat over HTTP, the scheduler
running in its lifespan and polling every second), the same customers and questions in each phase.

    .venv/bin/python -m benchmarks.care_chat_bench                                   # SQLite
    .venv/bin/python -m benchmarks.care_chat_bench --postgres postgresql://postgres@127.0.0.1:5432/postgres

Phases on one run: `before` (no jobs), `with` (100,000 pending, 1 % of them due: staff notices the scheduler
works through while customers chat), `after` (the jobs deleted again), so machine noise shows as before ≠ after.
The jobs' due-time claim is timed inside the scheduler's own pass (claim_due) during the `with` phase.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import uvicorn
from sqlalchemy import delete, func, insert, select

from adapters.http_app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from storage.jobs import JobRepository
from storage.models import JobStatus, ScheduledJob

QUERIES = Path(__file__).with_name("demo_queries.jsonl")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Server:
    def __init__(self, app) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def fill_jobs(runtime: Runtime, count: int, due_share: float = 0.01) -> int:
    now = datetime.now(UTC)
    due = int(count * due_share)
    rows = [
        {"kind": "notify.staff", "payload": {"recipient": "care-team", "text": f"notice {n}"}, "status": "pending",
         "due_at": now - timedelta(seconds=1) if n < due else now + timedelta(days=1 + n % 30),
         "attempts": 0, "max_attempts": 8, "created_by": "bench", "created_at": now}
        for n in range(count)
    ]  # fmt: skip
    for start in range(0, count, 5_000):  # short transactions: the running scheduler writes to this table too
        with runtime.db.session() as session:
            session.execute(insert(ScheduledJob), rows[start : start + 5_000])
    return due


def chat(base_url: str, texts: list[str], turns: int, tag: str) -> tuple[list[float], float, int]:
    """Latencies (ms), CPU seconds of this process, and turns answered 503 (past the reply deadline)."""
    latencies, busy = [], 0
    cpu = time.process_time()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for n in range(turns):
            body = {
                "session_id": f"bench{tag}{n % 20:02d}session",
                "message_id": f"{tag}-{n}",
                "text": texts[n % len(texts)],
            }
            started = time.perf_counter()
            response = client.post("/api/chat", json=body)
            latencies.append((time.perf_counter() - started) * 1e3)
            if response.status_code == 503:
                busy += 1
            else:
                response.raise_for_status()
    return latencies, time.process_time() - cpu, busy


def timed_claims(jobs: JobRepository) -> list[float]:
    """Wrap the scheduler's claim so each pass's pick of due jobs is timed where it runs."""
    timings: list[float] = []
    original = jobs.claim_due

    def claim_due(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timings.append((time.perf_counter() - started) * 1e3)

    jobs.claim_due = claim_due  # type: ignore[method-assign]
    return timings


def bench(settings: Settings, turns: int, jobs: int) -> None:
    texts = [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    runtime = Runtime.open(settings)
    claims = timed_claims(runtime.care.jobs)
    results = {}
    try:
        with Server(create_app(runtime)) as url:
            chat(url, texts, 40, "warm")
            results["before"] = chat(url, texts, turns, "a")
            due = fill_jobs(runtime, jobs)
            claims.clear()
            results["with"] = chat(url, texts, turns, "b")
            with runtime.db.session() as session:
                done = session.scalar(
                    select(func.count()).select_from(ScheduledJob).where(ScheduledJob.status == JobStatus.DONE)
                )
                session.execute(delete(ScheduledJob).where(ScheduledJob.created_by == "bench"))
            with_claims = list(claims)
            results["after"] = chat(url, texts, turns, "c")
    finally:
        runtime.close()
    print(f"database: {settings.database_url or 'SQLite'}; {turns} turns per phase, 20 customers")
    print("| phase | p50 | p95 | max | 503 (past WARMDESK_REPLY_DEADLINE_SECONDS) | CPU of the process |")
    print("|---|---|---|---|---|---|")
    for phase, (latencies, cpu, busy) in results.items():
        print(
            f"| {phase} | {percentile(latencies, 0.5):.1f} ms | {percentile(latencies, 0.95):.1f} ms | "
            f"{max(latencies):.1f} ms | {busy} | {cpu:.2f} s |"
        )
    if with_claims:
        print(
            f"`with`: {jobs:,} pending jobs, {due:,} due, {done:,} done during the phase; the scheduler's claim_due: "
            f"{len(with_claims)} passes, median {statistics.median(with_claims):.1f} ms, "
            f"p95 {percentile(with_claims, 0.95):.1f} ms, max {max(with_claims):.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server; a throwaway database is made there")
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        options = {"data_dir": Path(folder), "jobs_idle_seconds": 1.0}
        if not args.postgres:
            bench(Settings(**options), args.turns, args.jobs)
            return
        name = f"warmdesk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            bench(Settings(**options, database_url=f"{base}/{name}"), args.turns, args.jobs)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
