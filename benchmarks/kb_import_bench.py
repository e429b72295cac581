"""A 20,000-entry upload through the staff app while customers chat: does it show progress, finish, and leave chat
replies fast? (issue #15: "a 20,000-entry upload shows progress and finishes without blocking chat replies").

    .venv/bin/python -m benchmarks.kb_import_bench [--kb ../shared/bench/atec_kb.jsonl] [--json OUT]

One real server (the whole app, in this process, as `run.py serve` runs it) on a loopback port with the demo KB.
A customer thread sends web-chat messages one after another the whole time; the editor uploads the file to
`POST /staff/kb/import` (Bearer token) and follows `/staff/kb/import/{job}?format=json` each second. Reported:
chat latency p50 / p95 / max before, during and after the import, failed replies, the import's duration and the
progress values seen. The file is read at run time (evaluation data, never copied into the repo).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.conftest import LiveServer

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = (
    REPO.parent / "shared" / "bench" / "atec_kb.jsonl",
    REPO.parent.parent / "shared" / "bench" / "atec_kb.jsonl",
)
TOKEN = "import-bench-token"
QUESTIONS = ["where is my order", "how do I return something", "怎么退货", "do you sell gift cards", "运费多少"]


class Customers(threading.Thread):
    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=base, timeout=60)
        self.samples: list[tuple[float, float, int]] = []  # (sent at, ms, status)
        self.stop = threading.Event()

    def run(self) -> None:
        count = 0
        while not self.stop.is_set():
            text = QUESTIONS[count % len(QUESTIONS)]
            body = {"session_id": f"bench{count % 20:02d}session", "message_id": uuid.uuid4().hex, "text": text}
            started = time.perf_counter()
            try:
                status = self.http.post("/api/chat", json=body).status_code
            except httpx.HTTPError:
                status = 0
            self.samples.append((time.monotonic(), (time.perf_counter() - started) * 1e3, status))
            count += 1


class EngineTimer:
    """Times each message inside the engine (wall and the worker thread's own CPU): a reply slowed by waiting for
    something (a lock, the GIL, the encoder) shows wall far above CPU even on a quiet machine."""

    def __init__(self, engine) -> None:
        self.samples: list[tuple[float, float, float]] = []  # (started at, wall ms, thread CPU ms)
        handle = engine.handle_sync

        def timed(*args, **kwargs):
            started, wall, cpu = time.monotonic(), time.perf_counter(), time.thread_time()
            try:
                return handle(*args, **kwargs)
            finally:
                self.samples.append((started, (time.perf_counter() - wall) * 1e3, (time.thread_time() - cpu) * 1e3))

        engine.handle_sync = timed

    def figures(self, since: float, until: float) -> dict:
        inside = [(wall, cpu) for at, wall, cpu in self.samples if since <= at <= until]
        if not inside:
            return {"n": 0}
        walls, cpus = sorted(w for w, _ in inside), sorted(c for _, c in inside)
        waits = sorted(w - c for w, c in inside)
        return {
            "engine_wall_p50_ms": round(statistics.median(walls), 1),
            "engine_wall_p95_ms": round(percentile(walls, 0.95), 1),
            "engine_cpu_p50_ms": round(statistics.median(cpus), 1),
            "engine_cpu_p95_ms": round(percentile(cpus, 0.95), 1),
            "engine_wall_minus_cpu_p95_ms": round(percentile(waits, 0.95), 1),
            "engine_wall_minus_cpu_max_ms": round(waits[-1], 1),
        }


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def figures(samples: list[tuple[float, float, int]]) -> dict:
    times = sorted(ms for _, ms, _ in samples)
    if not times:
        return {"n": 0}
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(times[-1], 1),
        "failed": sum(status != 200 for *_, status in samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, default=next((p for p in CANDIDATES if p.is_file()), None))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--warm-seconds", type=float, default=20.0)
    parser.add_argument("--max-seconds", type=float, help="stop watching after this long (a slow, busy machine)")
    args = parser.parse_args()
    if args.kb is None or not args.kb.is_file():
        parser.error("give --kb (the ATEC dev KB of ../shared/bench)")
    with tempfile.TemporaryDirectory() as data:
        runtime = Runtime.open(Settings(data_dir=Path(data), agent_token=TOKEN))
        timer = EngineTimer(runtime.engine)
        live = LiveServer(runtime)
        live.start()
        customers = Customers(live.url)
        customers.start()
        time.sleep(args.warm_seconds)
        editor = httpx.Client(base_url=live.url, timeout=600, headers={"authorization": f"Bearer {TOKEN}"})
        started, cpu_started = time.monotonic(), time.process_time()
        with args.kb.open("rb") as upload:
            posted = editor.post("/staff/kb/import", files={"file": (args.kb.name, upload, "application/x-ndjson")})
        accepted = time.monotonic()
        job_url = posted.headers.get("location", "")
        progress, last, stage_started = [], {}, {"saving": started}
        while job_url:
            try:
                last = editor.get(job_url, params={"format": "json"}).json()
            except httpx.TransportError:  # a kept-alive connection the server had just closed: ask again
                continue
            if last["stage"] != (progress[-1][1] if progress else None):
                stage_started[last["stage"]] = time.monotonic()
            progress.append((round(time.monotonic() - started, 1), last["stage"], last["percent"]))
            print(progress[-1], file=sys.stderr, flush=True)
            if last["stage"] in ("done", "failed"):
                break
            if args.max_seconds and time.monotonic() - started > args.max_seconds:
                break
            time.sleep(1.0)
        finished = time.monotonic()
        time.sleep(args.warm_seconds)
        customers.stop.set()
        customers.join()
        live.stop()
        entries = len(runtime.knowledge)
        runtime.close()
    indexing = stage_started.get("indexing", finished)
    samples = customers.samples
    result = {
        "upload_status": posted.status_code,
        "upload_request_seconds": round(accepted - started, 1),
        "import_seconds": round(finished - started, 1),
        "job": last,
        "stopped_watching_early": last.get("stage") not in ("done", "failed"),
        "entries_live_after": entries,
        "progress_values_seen": len({p for _, _, p in progress}),
        "progress": progress[:: max(1, len(progress) // 12)],
        "chat_before": figures([s for s in samples if s[0] < started]),
        "chat_during": figures([s for s in samples if started <= s[0] <= finished]),
        "chat_during_saving": figures([s for s in samples if started <= s[0] < indexing]),
        "chat_during_indexing": figures([s for s in samples if indexing <= s[0] <= finished]),
        "chat_after": figures([s for s in samples if s[0] > finished]),
        "engine_before": timer.figures(float("-inf"), started),
        "engine_during_saving": timer.figures(started, indexing),
        "engine_during_indexing": timer.figures(indexing, finished),
        "engine_after": timer.figures(finished, float("inf")),
        "bulk_longest_wait_for_chat_s": round(getattr(getattr(runtime.embedder, "gate", None), "longest_wait", 0.0), 3),
        "process_cpu_seconds": round(time.process_time() - cpu_started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
