"""Handoff decisions against two evaluation sets (evaluation only: nothing is trained or copied from them).

- complaints_escalation.jsonl: is a single complaint tweet handoff-worthy? precision / recall / F1 for
  complaint = 1, using exactly the shipped triggers (no context, the bot is assumed to have answered).
- uss_escalation.jsonl: for each user turn, from the dialogue prefix only, hand off now or not; scored per
  turn against `handoff_turn` (turns after it are not scored: the conversation would have been handed off),
  and per dialogue (first hand-off at, before, or after the annotated turn; false alarms).
- benchmarks/demo_queries.jsonl (the project's own demo FAQ questions): how many would hand off on their
  own, as a single answered message? They are ordinary questions, so the lower the better.

    .venv/bin/python -m benchmarks.handoff_bench [--bench-dir ../shared/bench] [--tagger shipped|none] [--no-vector]

`--no-vector` keeps the shipped tagger but withholds the query vector from the triggers, so the complaint
trigger falls back to its cue rule (the behaviour before the complaint classifier). `--no-gate` (measurement
only) lets the complaint classifier fire without corroboration (`triggers._corroborated` always true): the
classifier alone, alongside the other triggers.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.emotion.base import EmotionTag
from bot.handoff.triggers import EarlierTurn, TriggerInput, Triggers

REPO = Path(__file__).resolve().parents[1]
# How a benchmark dialogue's system turn maps to the bot decisions the triggers know (system text is all we have).
SYSTEM_FAILED = re.compile(
    r"\b(sorry|unfortunately|i (couldn't|could not|can't|cannot) find|there (are|is) no|no (results|matches)|"
    r"not available|unable to|did not find|didn't find|none (available|that))\b",
    re.IGNORECASE,
)

Tagged = tuple[EmotionTag, np.ndarray | None]  # the emotion tag and the query vector the engine would pass on
Tag = Callable[[list[str]], list[Tagged]]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scores(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def neutral_tagger(texts: list[str]) -> list[Tagged]:
    return [(EmotionTag("neutral", 0.0), None) for _ in texts]


def shipped_tagger(with_vector: bool = True) -> Tag:
    from benchmarks.faq_embedding_cache import CachedEmbedder
    from bot.emotion import default_tagger
    from knowledge.embedder import shared_embedder

    embedder = CachedEmbedder(shared_embedder())
    tagger = default_tagger()

    def tag(texts: list[str]) -> list[Tagged]:
        vectors = embedder.queries(texts)
        embedder.save()
        return [
            (tagger.tag(text, vector), vector if with_vector else None)
            for text, vector in zip(texts, vectors, strict=True)
        ]

    return tag


def answered(_text: str, _vector) -> str:
    """The harshest assumption: the bot had a confident answer for every message."""
    return "answer"


def demo_kb_decider():
    """What the bot really decides for a message, with the demo store's knowledge base."""
    from benchmarks.faq_embedding_cache import CachedEmbedder
    from knowledge.base import KnowledgeBase
    from knowledge.embedder import shared_embedder
    from knowledge.io import load_entries

    embedder = CachedEmbedder(shared_embedder())
    kb = KnowledgeBase.in_memory(load_entries(REPO / "knowledge" / "demo_kb.jsonl").entries, embedder)
    embedder.save()
    return lambda text, vector: kb.search(text, vector).decision


def complaints(rows: list[dict], tag: Tag, triggers: Triggers, decide=answered) -> dict:
    texts = [row["text"] for row in rows]
    tags = tag(texts)
    tp = fp = fn = 0
    reasons: Counter[str] = Counter()
    for row, (emotion, vector) in zip(rows, tags, strict=True):
        decision = decide(row["text"], vector)
        given = TriggerInput(row["text"], emotion.label, emotion.intensity, decision=decision, vector=vector)
        hit = triggers.check(given)
        if hit:
            reasons[hit.reason] += 1
        predicted, gold = hit is not None, bool(row["complaint"])
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    return {
        "n": len(rows),
        "positives": sum(r["complaint"] for r in rows),
        **scores(tp, fp, fn),
        "fired": dict(reasons),
    }


def system_decision(text: str | None) -> str:
    if text is None:
        return "answer"
    if SYSTEM_FAILED.search(text):
        return "no_answer"
    return "answer"


def uss(dialogues: list[dict], tag: Tag, triggers: Triggers) -> dict:
    user_texts = [t["text"] for d in dialogues for t in d["turns"] if t["role"] == "user"]
    tags = iter(tag(user_texts))
    turn = Counter()
    dialogue = Counter()
    reasons: Counter[str] = Counter()
    for d in dialogues:
        gold = d["handoff_turn"]
        earlier: list[EarlierTurn] = []
        first_fire = None
        turns = d["turns"]
        for index, current in enumerate(turns):
            if current["role"] != "user":
                continue
            emotion, vector = next(tags)
            reply = next((t["text"] for t in turns[index + 1 :] if t["role"] == "system"), None)
            decision = system_decision(reply)
            if gold is None or index <= gold:
                hit = triggers.check(
                    TriggerInput(
                        current["text"], emotion.label, emotion.intensity, decision, tuple(earlier[-6:]), vector=vector
                    )
                )
                fired, positive = hit is not None, index == gold
                turn["tp"] += fired and positive
                turn["fp"] += fired and not positive
                turn["fn"] += positive and not fired
                if fired:
                    reasons[hit.reason] += 1
                    first_fire = index if first_fire is None else first_fire
            earlier.append(EarlierTurn(current["text"], emotion.label, emotion.intensity, decision))
        if gold is None:
            dialogue["false_alarm" if first_fire is not None else "correctly_quiet"] += 1
        elif first_fire is None:
            dialogue["missed"] += 1
        else:
            dialogue["exact" if first_fire == gold else "early"] += 1
    with_gold = sum(1 for d in dialogues if d["handoff_turn"] is not None)
    return {
        "dialogues": len(dialogues),
        "with_handoff_turn": with_gold,
        "turn_level": scores(turn["tp"], turn["fp"], turn["fn"]),
        "dialogue_level": dict(dialogue),
        "fired": dict(reasons),
    }


def demo(rows: list[dict], tag: Tag, triggers: Triggers, decide=answered) -> dict:
    """Each demo FAQ question alone: which would hand off, and why (in-scope counted apart)."""
    fired: list[dict] = []
    reasons: Counter[str] = Counter()
    fired_in_scope = 0
    for row, (emotion, vector) in zip(rows, tag([r["text"] for r in rows]), strict=True):
        decision = decide(row["text"], vector)
        hit = triggers.check(TriggerInput(row["text"], emotion.label, emotion.intensity, decision, vector=vector))
        if hit:
            reasons[hit.reason] += 1
            fired_in_scope += bool(row.get("expected"))
            fired.append({"text": row["text"], "reason": hit.reason, "score": hit.evidence.get("score")})
    in_scope = sum(1 for r in rows if r.get("expected"))
    return {
        "n": len(rows),
        "in_scope": in_scope,
        "handed_off": len(fired),
        "handoff_rate": round(len(fired) / len(rows), 3) if rows else 0.0,
        "in_scope_handoff_rate": round(fired_in_scope / in_scope, 3) if in_scope else 0.0,
        "fired": dict(reasons),
        "texts": fired,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-dir", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--tagger", choices=["shipped", "none"], default="shipped")
    parser.add_argument("--no-vector", action="store_true", help="complaint trigger without the query vector")
    parser.add_argument("--no-gate", action="store_true", help="complaint classifier without corroboration")
    parser.add_argument("--demo", type=Path, default=REPO / "benchmarks" / "demo_queries.jsonl")
    parser.add_argument(
        "--decisions",
        choices=["answered", "demo-kb"],
        default="answered",
        help="the bot's decision for each message: always a confident answer (default), or what the demo KB decides",
    )
    args = parser.parse_args()
    decide = demo_kb_decider() if args.decisions == "demo-kb" else answered
    if args.no_gate:
        import bot.handoff.triggers as trigger_module

        trigger_module._corroborated = lambda *_args: True
    tag = shipped_tagger(with_vector=not args.no_vector) if args.tagger == "shipped" else neutral_tagger
    triggers = Triggers()
    started = time.perf_counter()
    result = {
        "tagger": args.tagger,
        "complaint_vector": args.tagger == "shipped" and not args.no_vector,
        "gate": not args.no_gate,
        "decisions": args.decisions,
        "complaints": complaints(read_jsonl(args.bench_dir / "complaints_escalation.jsonl"), tag, triggers, decide),
        "uss": uss(read_jsonl(args.bench_dir / "uss_escalation.jsonl"), tag, triggers),
        "demo_queries": demo(read_jsonl(args.demo), tag, triggers, decide),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
