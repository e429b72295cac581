"""Overhead of the LLM path per message, the model's own time excluded: a fake OpenAI-compatible server on loopback
that answers instantly, so what is timed is ours (prompt rendering, masking, the openai SDK + langchain call over
loopback HTTP, JSON parsing, the grounding check, the usage row in SQLite).

    .venv/bin/python -m benchmarks.llm_overhead_bench [--rounds 3]

Every demo query is retrieved once first; only `GroundedAnswers.compose()` is on the clock. The fake runs in its
own process and answers at once; its own handling (about 1 ms) is left on the clock, so the figure is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    composer = grounded_answers(LlmClient(settings, LlmUsageRepository(db)), kb, texts, business)
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
    overheads: list[float] = []
    composed = 0
    for _ in range(args.rounds):
        for text, language, retrieval, plan in prepared:
            started = time.perf_counter()
            result = composer.compose(
                InboundMessage("bench", "u", text), text, language, emotion, snapshot, retrieval, plan
            )
            total = time.perf_counter() - started
            composed += result.text != plan.text
            overheads.append(total * 1e3)
    fake.terminate()
    fake.wait(timeout=10)
    overheads.sort()
    print(
        json.dumps(
            {
                "messages": len(overheads),
                "composed": composed,
                "overhead_ms_p50": round(statistics.median(overheads), 2),
                "overhead_ms_p95": round(overheads[int(len(overheads) * 0.95)], 2),
                "overhead_ms_mean": round(statistics.fmean(overheads), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
