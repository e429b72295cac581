"""Grid search of the decision settings on the dev sets (features computed once per dataset).

    .venv/bin/python -m benchmarks.faq_tune [--only banking77,clinc150,banking77_oos]

Decision rule being tuned: answer iff share(T) + a * (similarity - s0) >= 0, where share is the top
entry's softmax share of the fused scores at temperature T. Prints the settings that meet the most targets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.faq_bench import DEFAULT_BENCH  # noqa: E402
from benchmarks.faq_embedding_cache import CachedEmbedder  # noqa: E402
from knowledge.base import KnowledgeBase, RetrievalSettings  # noqa: E402
from knowledge.embedder import shared_embedder  # noqa: E402
from knowledge.io import load_entries  # noqa: E402
from knowledge.lexical import tokenize  # noqa: E402

TEMPERATURES = (0.25, 0.5, 1.0, 2.0, 4.0)


def features(name: str, bench: Path, settings: RetrievalSettings) -> dict:
    embedder = CachedEmbedder(shared_embedder())
    entries = load_entries(bench / f"{name}_kb.jsonl").entries
    queries = [json.loads(line) for line in (bench / f"{name}_queries.jsonl").open(encoding="utf-8")]
    kb = KnowledgeBase.in_memory(entries, embedder, settings)
    entry_ids, ranker = kb._current_ranker()
    vectors = embedder.queries([q["text"] for q in queries])
    embedder.save()
    index = {faq_id: i for i, faq_id in enumerate(entry_ids)}
    expected = np.array([index.get(q["expected"], -1) if q["expected"] else -1 for q in queries])
    top = np.zeros(len(queries), int)
    similarity = np.zeros(len(queries))
    shares = np.zeros((len(TEMPERATURES), len(queries)))
    for row, (query, vector) in enumerate(zip(queries, vectors, strict=True)):
        scores = ranker.score(tokenize(query["text"]), vector)
        best = int(np.argmax(scores.fused))
        top[row], similarity[row] = best, scores.similarity[best]
        for t, temperature in enumerate(TEMPERATURES):
            scaled = (scores.fused - scores.fused[best]) / temperature
            shares[t, row] = 1.0 / np.exp(scaled).sum()
    return {"expected": expected, "top": top, "similarity": similarity, "shares": shares}


def evaluate(f: dict, t: int, a: float, s0: float) -> tuple[float, float, float | None]:
    answer = f["shares"][t] + a * (f["similarity"] - s0) >= 0
    in_scope = f["expected"] >= 0
    correct = answer & (f["top"] == f["expected"]) & in_scope
    top1 = correct[in_scope].mean()
    wrong = (answer & ~correct).mean()
    recall = (~answer & ~in_scope).sum() / (~in_scope).sum() if (~in_scope).any() else None
    return float(top1), float(wrong), None if recall is None else float(recall)


def meets(name: str, top1: float, wrong: float, recall: float | None) -> float:
    """Sum of shortfalls against the targets (0 = all met)."""
    if name == "banking77":
        # 0.85 is above what the ranking reaches even without abstaining: keep it from dominating
        return 0.25 * max(0, 0.85 - top1)
    if name == "clinc150":
        return max(0, 0.85 - top1) + max(0, 0.70 - (recall or 0)) + max(0, wrong - 0.10)
    if name == "banking77_oos":
        return max(0, 0.75 - top1) + max(0, 0.60 - (recall or 0))
    if name == "atec":
        return max(0, 0.18 - top1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--only", default="banking77,clinc150,banking77_oos")
    parser.add_argument("--vector", type=float, default=None)
    parser.add_argument("--lexical", type=float, default=None)
    parser.add_argument("--classifier", type=float, default=None)
    args = parser.parse_args()
    overrides = {
        key: value
        for key, value in (
            ("vector_weight", args.vector),
            ("lexical_weight", args.lexical),
            ("classifier_weight", args.classifier),
        )
        if value is not None
    }
    settings = RetrievalSettings(**overrides)
    data = {name: features(name, args.bench, settings) for name in args.only.split(",")}
    for name, f in data.items():
        print(
            name, "top-1 without abstaining:", round(float((f["top"] == f["expected"])[f["expected"] >= 0].mean()), 4)
        )
    results = []
    for t, a, s0 in itertools.product(
        range(len(TEMPERATURES)), (0, 0.5, 1, 2, 4, 8, 16, 32, 64, 1000), np.arange(0.80, 1.10, 0.01)
    ):
        per = {name: evaluate(f, t, a, float(s0)) for name, f in data.items()}
        shortfall = sum(meets(name, *values) for name, values in per.items())
        results.append((shortfall, TEMPERATURES[t], a, round(float(s0), 2), per))
    results.sort(key=lambda r: r[0])
    for shortfall, temperature, a, s0, per in results[:15]:
        summary = "  ".join(
            f"{name}: top1 {v[0]:.3f} wrong {v[1]:.3f} rec {'-' if v[2] is None else f'{v[2]:.3f}'}"
            for name, v in per.items()
        )
        print(f"short {shortfall:.3f} T={temperature} a={a} s0={s0} | {summary}")


if __name__ == "__main__":
    main()
