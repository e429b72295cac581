"""Time every insights query on a database filled by `benchmarks.insights_fixture` (target: p95 ≤ 1 s).

    .venv/bin/python -m benchmarks.insights_bench --db sqlite:///data/insights-bench.db [--runs 5] [--rollup]

With --rollup the rollups are first brought up to the fixture's end minus 24 h (as the hourly job keeps them),
and that refresh is timed too; without it the figures are computed from the raw rows alone.

Each figure is computed over the last 30 days (the dashboard's default) and the last 7 (the digest), with no
filter and with a channel + language filter; then the customer list search and one customer's 360 view.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from benchmarks.engine_bench import percentile
from benchmarks.insights_fixture import END
from bot.insights import FIGURES, Insights
from bot.insights.rollups import refresh_rollups
from storage.customer360 import CustomerSearch, customer_360, search_customers
from storage.db import Database
from storage.reports import ReportFilter, ReportRange
from storage.reports_rollups import clear


def timed(action, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds per run (CPU: the client's share, all of it on SQLite)."""
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append((time.perf_counter() - started) * 1e3)
        cpus.append((time.process_time() - cpu) * 1e3)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rollup", action="store_true", help="refresh the rollups first (timed), then read them")
    parser.add_argument("--keep", action="store_true", help="keep the rollups as they are (already refreshed)")
    args = parser.parse_args()
    db = Database(args.db)
    db.migrate()
    if not args.keep:
        with db.session() as session:
            clear(session)
    if args.rollup and not args.keep:
        started, cpu = time.perf_counter(), time.process_time()
        run = refresh_rollups(db, END)
        print(
            f"rollup refresh from nothing: {run.questions} questions, {run.conversations} conversations in "
            f"{time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU\n"
        )
        started = time.perf_counter()
        refresh_rollups(db, END + timedelta(hours=1))
        print(f"one hourly refresh after that: {(time.perf_counter() - started) * 1e3:.0f} ms\n")
    insights = Insights(db)
    cases = []
    for days in (30, 7):
        period = ReportRange(END - timedelta(days=days), END)
        for label, filters in (("", ReportFilter()), (" web+zh", ReportFilter(channel="web", language="zh"))):
            for name in FIGURES:
                cases.append((f"{name} {days} d{label}", lambda n=name, p=period, f=filters: insights.figure(n, p, f)))
    cases.append(("customer list: name search", lambda: search_customers(db, CustomerSearch(query="customer 4242"))))
    cases.append(
        ("customer list: vip at risk page 3", lambda: search_customers(db, CustomerSearch(tier="vip", page=3)))
    )
    cases.append(("customer list: identity", lambda: search_customers(db, CustomerSearch(query="web-4242"))))
    cases.append(("customer 360", lambda: customer_360(db, 4242)))
    print("| query | runs | p50 | p95 | CPU p50 | CPU p95 |")
    print("|---|---|---|---|---|---|")
    worst = worst_cpu = 0.0
    for name, action in cases:
        times, cpu = timed(action, args.runs)
        worst, worst_cpu = max(worst, percentile(times, 0.95)), max(worst_cpu, percentile(cpu, 0.95))
        print(
            f"| {name} | {len(times)} | {percentile(times, 0.5):.0f} ms | {percentile(times, 0.95):.0f} ms "
            f"| {percentile(cpu, 0.5):.0f} ms | {percentile(cpu, 0.95):.0f} ms |"
        )
    print(f"\nworst p95: {worst:.0f} ms wall, {worst_cpu:.0f} ms CPU (this process)")
    db.dispose()


if __name__ == "__main__":
    main()
