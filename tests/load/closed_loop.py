"""Closed-loop Telegram customers: each posts a webhook update, waits for its reply at the fake Bot API, asks again.

The figures are messages per second, reply latency (webhook posted → reply accepted by the API) and, load-
independent, the server processes' CPU time and SQL statements per message.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.adapters.telegram_fake import FakeTelegram, text_update
from tests.load.counting_serve import read_counts
from tests.load.harness import Served
from tests.load.telegram_load import post_update

REPLY_WAIT_SECONDS = 30


@dataclass
class ClosedLoopResult:
    customers: int
    api_delay_ms: int
    processes: int
    seconds: float
    latencies: list[float]
    busy: int  # 503 answers (Telegram sends the update again; so do these customers)
    server_cpu: float  # seconds, every server process
    client_cpu: float  # seconds, this process (the customers and the fake Bot API)
    sql: Counter[str] = field(default_factory=Counter)

    @property
    def replies(self) -> int:
        return len(self.latencies)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * share) - 1)] if ordered else float("nan")

    def per_message(self, amount: float) -> float:
        return amount / self.replies if self.replies else float("nan")

    def line(self) -> str:
        sql = ""
        if self.sql:
            top = ", ".join(
                f"{kind} {self.per_message(n):.2f}"
                for kind, n in self.sql.most_common()
                if kind not in ("statements", "commits", "embed_cpu_us")
            )
            sql = (
                f"; SQL {self.per_message(self.sql['statements']):.1f} statements and "
                f"{self.per_message(self.sql['commits']):.1f} commits per message ({top})"
            )
        return (
            f"closed loop, {self.customers} Telegram customers, {self.processes} serve process(es), API round trip "
            f"{self.api_delay_ms} ms: {self.replies / self.seconds:.1f} msg/s, reply p50 "
            f"{statistics.median(self.latencies) * 1000:.0f} ms, p95 {self.percentile(0.95) * 1000:.0f} ms "
            f"({self.replies} replies in {self.seconds:.1f} s, {self.busy} busy 503s retried); server CPU "
            f"{self.per_message(self.server_cpu) * 1000:.1f} ms per message{self._embedding()}, load generator "
            f"{self.per_message(self.client_cpu) * 1000:.1f} ms ({os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f}){sql}"
        )

    def _embedding(self) -> str:
        if "embed_cpu_us" not in self.sql:
            return ""
        embedding = self.per_message(self.sql["embed_cpu_us"] / 1e6)
        server = self.per_message(self.server_cpu)
        return f" (query embedding {embedding * 1000:.1f} ms, the rest {(server - embedding) * 1000:.1f} ms)"


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _sql(servers: list[Served]) -> Counter[str]:
    total: Counter[str] = Counter()
    for server in servers:
        if server.sql_counts is not None:
            total.update(read_counts(server.sql_counts))
    return total


def run_closed_loop(
    fake: FakeTelegram,
    servers: list[Served],
    questions: list[str],
    *,
    seconds: float,
    customers: int = 50,
    first_user: int = 2000,
    extra_cpu=None,  # () -> seconds of CPU of helper processes on the node (a database server), or None
) -> ClosedLoopResult:
    """Run `customers` closed-loop customers for `seconds`; updates go round-robin over `servers` (a proxy)."""
    latencies: list[float] = []
    busy = Counter()
    lock = threading.Lock()
    next_server = itertools.cycle(servers)
    stop_at = time.monotonic() + seconds

    def customer(user_id: int) -> None:
        with httpx.Client(timeout=60) as client:
            for n in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                before = fake.sent_count(user_id)
                started = time.monotonic()
                update = text_update(questions[n % len(questions)], user_id=user_id)
                while (status := post_update(client, next(next_server).url, update)) == 503:  # as Telegram does
                    with lock:
                        busy[user_id] += 1
                assert status == 200, status
                if not fake.wait_for_chat(user_id, before, REPLY_WAIT_SECONDS):
                    return
                with lock:
                    latencies.append(time.monotonic() - started)

    def server_cpu() -> float:
        return sum(server.cpu_seconds() for server in servers) + (extra_cpu() if extra_cpu else 0.0)

    threads = [threading.Thread(target=customer, args=(first_user + i,)) for i in range(customers)]
    sql_before, cpu_before, own_before, began = _sql(servers), server_cpu(), _own_cpu(), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu, own = time.monotonic() - began, server_cpu() - cpu_before, _own_cpu() - own_before
    time.sleep(0.6)  # the counting servers write their counts every 0.5 s
    sql = _sql(servers)
    sql.subtract(sql_before)
    return ClosedLoopResult(
        customers,
        round(fake.send_delay_seconds * 1000),
        len(servers),
        elapsed,
        latencies,
        sum(busy.values()),
        cpu,
        own,
        +sql,
    )
