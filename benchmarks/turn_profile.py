"""In-process profile of conversation turns: encoder calls per turn, CPU per turn and the engine's stage timings.

    .venv/bin/python -m benchmarks.turn_profile [--kb KB.jsonl] [--conversations C.jsonl] [--cprofile 30]

Plays every conversation's turns (one customer per conversation, the conversation's language as the page
sends it) through `Engine.handle_sync` on a fresh data dir with the KB imported, after one warm-up pass.
Wall-clock figures on a shared machine are noisy; the encoder call count and the CPU time are not (CPU is the
whole process's, both embedding threads included). A handoff a turn opens is resolved right after it, untimed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.engine_bench import percentile, prepare_data_dir, read_jsonl
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings
from storage.models import utcnow

CONVERSATIONS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "conversations"


def play(runtime: Runtime, turns: list[tuple[str, str, str]], calls: Counter) -> dict:
    prefix = os.urandom(4).hex()
    walls, cpus, stages = [], [], Counter()
    calls.clear()
    for i, (conversation, language, text) in enumerate(turns):
        user = f"{prefix}-{conversation}"
        message = InboundMessage("web", user, text, chat_id=user, message_id=f"{prefix}-{i}", language_hint=language)
        wall, cpu = time.perf_counter(), time.process_time()
        reply = runtime.engine.handle_sync(message)
        walls.append((time.perf_counter() - wall) * 1e3)
        cpus.append((time.process_time() - cpu) * 1e3)
        stages.update(reply.timings_ms)
        if reply.handoff_id:
            runtime.handoff.repository.resolve(reply.handoff_id, "bench-agent", "resolved", utcnow())
    n = len(turns)
    return {
        "turns": n,
        "encoder_calls_per_turn": round(calls["calls"] / n, 3),
        "embedded_chars_per_turn": round(calls["chars"] / n, 1),
        "wall_ms_p50": round(percentile(walls, 0.5), 1),
        "wall_ms_p95": round(percentile(walls, 0.95), 1),
        "cpu_ms_mean": round(sum(cpus) / n, 1),
        "cpu_ms_p95": round(percentile(cpus, 0.95), 1),
        "stage_ms_mean": {stage: round(total / n, 2) for stage, total in stages.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=CONVERSATIONS / "pebble_kb.jsonl")
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS / "pebble_conversations.jsonl")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions by cumulative time")
    args = parser.parse_args()
    turns = [(c["id"], c["language"], t["text"]) for c in read_jsonl(args.conversations) for t in c["turns"]]
    with tempfile.TemporaryDirectory() as tmp:
        prepare_data_dir(Path(tmp), args.kb)
        runtime = Runtime.open(Settings(data_dir=Path(tmp), seed_demo_kb=False))
        embedder, calls = runtime.engine._embedder, Counter()
        real_query = embedder.query

        def counted(text: str):
            calls["calls"] += 1
            calls["chars"] += len(text)
            return real_query(text)

        embedder.query = counted  # the engine's and the follow-up search's one embedder
        play(runtime, turns, calls)  # warm-up
        embedder.clear_query_cache()  # the timed pass repeats the warm-up's texts: serve only its own repeats
        profile = cProfile.Profile() if args.cprofile else None
        if profile:
            profile.enable()
        result = play(runtime, turns, calls)
        if profile:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.cprofile)
        hits, misses = embedder.query_cache_counts()
        result["query_cache_hits_per_call"] = round(hits / max(1, hits + misses), 3)
        runtime.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
