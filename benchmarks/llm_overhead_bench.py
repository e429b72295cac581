"""Overhead of the LLM path per message, the model's own time excluded: a fake OpenAI-compatible server on loopback
that answers instantly, so what is timed is ours (prompt rendering, masking, the openai SDK + langchain call over
loopback HTTP, JSON parsing, the grounding check, the usage row).

    .venv/bin/python -m benchmarks.llm_overhead_bench [--rounds 3] [--profile 30]

Every demo query is retrieved once first; only `GroundedAnswers.compose()` is on the clock. The fake runs in its
own process and answers at once, so the CPU time of this process per message (`time.process_time`, every thread
of it: the usage writer included) is our overhead, and the model's (the fake's) time is not in it. Wall time is
reported too: it adds the fake's handling and the loopback round trip, and on a shared machine the waits for a core.
`--profile N` prints the N most expensive functions (cProfile, cumulative) of one more round.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from langchain_core.messages import AIMessage

from benchmarks.fake_llm_server import grounded
from bot import policy
from bot.business import load_business_file
from bot.emotion.base import EmotionTag
from bot.language import detect_language
from bot.llm.client import LlmClient
from bot.llm.wiring import grounded_answers
from bot.messages import InboundMessage
from bot.settings import Settings
from bot.texts import Texts
from knowledge.base import KnowledgeBase
from knowledge.embedder import shared_embedder
from knowledge.io import load_entries
from storage.conversations import ConversationSnapshot
from storage.db import Database
from storage.llm_usage import LlmUsageRepository

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    fake = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fake_llm_server"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )  # its own process, so that its threads do not take this one's GIL; its handling time stays on the clock
    base_url = fake.stdout.readline().strip()
    data = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{data / 'bench.db'}")
    db.migrate()
    settings = Settings(data_dir=data, llm_base_url=base_url, llm_model="fake", llm_daily_token_budget=0)
    business = load_business_file()
    embedder = shared_embedder()
    kb = KnowledgeBase.in_memory(load_entries(REPO / "knowledge" / "demo_kb.jsonl").entries, embedder)
    texts = Texts.from_business(business)
    client = LlmClient(settings, LlmUsageRepository(db))
    composer = grounded_answers(client, kb, texts, business)
    queries = [json.loads(line)["text"] for line in (REPO / "benchmarks" / "demo_queries.jsonl").open(encoding="utf-8")]
    prepared = []
    for text in queries:
        language = detect_language(text, "en")
        retrieval = kb.search(text, embedder.query(text))
        plan = policy.plan_reply(retrieval, language, kb.entry, texts)
        if plan.decision in ("answer", "clarify"):
            prepared.append((text, language, retrieval, plan))
    snapshot = ConversationSnapshot()
    emotion = EmotionTag("neutral", 0.1)
    for text, language, retrieval, plan in prepared[:5]:  # warm-up: connection pool, templates, regexes
        composer.compose(InboundMessage("bench", "u", text), text, language, emotion, snapshot, retrieval, plan)
    walls: list[float] = []
    cpus: list[float] = []
    composed = 0

    def one(text, language, retrieval, plan):
        return composer.compose(InboundMessage("bench", "u", text), text, language, emotion, snapshot, retrieval, plan)

    loop_cpu = time.process_time()
    for _ in range(args.rounds):
        for text, language, retrieval, plan in prepared:
            wall, cpu = time.perf_counter(), time.process_time()
            result = one(text, language, retrieval, plan)
            cpus.append((time.process_time() - cpu) * 1e3)
            walls.append((time.perf_counter() - wall) * 1e3)
            composed += result.text != plan.text
    client.flush()  # the usage rows are ours too, written by a background thread: their CPU time counts
    loop_cpu_ms = (time.process_time() - loop_cpu) * 1e3 / len(cpus)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for prepared_one in prepared:
            one(*prepared_one)
        client.flush()
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(args.profile)
    fake.terminate()
    fake.wait(timeout=10)
    # The same messages with the chat model replaced by the fake's answer in-process: our code alone, without the
    # openai SDK + langchain call (their share is the difference to cpu_ms).
    own = grounded_answers(LlmClient(settings, LlmUsageRepository(db), model=_InProcessFake()), kb, texts, business)
    for prepared_one in prepared[:5]:
        own.compose(InboundMessage("bench", "u", prepared_one[0]), *_rest(prepared_one, emotion, snapshot))
    own_cpu = time.process_time()
    for _ in range(args.rounds):
        for prepared_one in prepared:
            own.compose(InboundMessage("bench", "u", prepared_one[0]), *_rest(prepared_one, emotion, snapshot))
    own._client.flush()
    own_cpu_ms = (time.process_time() - own_cpu) * 1e3 / (args.rounds * len(prepared))
    cpu = {**_figures(cpus), "mean_with_background": round(loop_cpu_ms, 2), "ours_without_sdk": round(own_cpu_ms, 2)}
    print(json.dumps({"messages": len(walls), "composed": composed, "cpu_ms": cpu, "wall_ms": _figures(walls)}))


def _rest(prepared_one, emotion, snapshot):
    text, language, retrieval, plan = prepared_one
    return text, language, emotion, snapshot, retrieval, plan


class _InProcessFake:
    """Answers as the fake server does, without HTTP, the openai SDK or langchain's call machinery."""

    def invoke(self, messages):
        roles = {"human": "user"}
        request = {"messages": [{"role": roles.get(m.type, m.type), "content": m.content} for m in messages]}
        usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
        return AIMessage(grounded(request).content or "", usage_metadata=usage)


def _figures(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(values[int(len(values) * 0.95)], 2),
        "mean": round(statistics.fmean(values), 2),
    }


if __name__ == "__main__":
    main()
