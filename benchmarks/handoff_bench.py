"""Handoff decisions against two evaluation sets (evaluation only: nothing is trained or copied from them).

- complaints_escalation.jsonl: is a single complaint tweet handoff-worthy? precision / recall / F1 for
  complaint = 1, using exactly the shipped triggers (no context, the bot is assumed to have answered).
- uss_escalation.jsonl: for each user turn, from the dialogue prefix only, hand off now or not; scored per
  turn against `handoff_turn` (turns after it are not scored: the conversation would have been handed off),
  and per dialogue (first hand-off at, before, or after the annotated turn; false alarms).

    .venv/bin/python -m benchmarks.handoff_bench [--bench-dir ../shared/bench] [--tagger shipped|none]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bot.emotion.base import EmotionTag
from bot.handoff.triggers import EarlierTurn, TriggerInput, Triggers

REPO = Path(__file__).resolve().parents[1]
# How a benchmark dialogue's system turn maps to the bot decisions the triggers know (system text is all we have).
SYSTEM_FAILED = re.compile(
    r"\b(sorry|unfortunately|i (couldn't|could not|can't|cannot) find|there (are|is) no|no (results|matches)|"
    r"not available|unable to|did not find|didn't find|none (available|that))\b",
    re.IGNORECASE,
)

Tag = Callable[[list[str]], list[EmotionTag]]


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


def neutral_tagger(texts: list[str]) -> list[EmotionTag]:
    return [EmotionTag("neutral", 0.0) for _ in texts]


def shipped_tagger() -> Tag:
    from benchmarks.faq_embedding_cache import CachedEmbedder
    from bot.emotion import default_tagger
    from knowledge.embedder import shared_embedder

    embedder = CachedEmbedder(shared_embedder())
    tagger = default_tagger()

    def tag(texts: list[str]) -> list[EmotionTag]:
        vectors = embedder.queries(texts)
        embedder.save()
        return [tagger.tag(text, vector) for text, vector in zip(texts, vectors, strict=True)]

    return tag


def complaints(rows: list[dict], tag: Tag, triggers: Triggers) -> dict:
    texts = [row["text"] for row in rows]
    tags = tag(texts)
    tp = fp = fn = 0
    reasons: Counter[str] = Counter()
    for row, emotion in zip(rows, tags, strict=True):
        hit = triggers.check(TriggerInput(row["text"], emotion.label, emotion.intensity, decision="answer"))
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
            emotion = next(tags)
            reply = next((t["text"] for t in turns[index + 1 :] if t["role"] == "system"), None)
            decision = system_decision(reply)
            if gold is None or index <= gold:
                hit = triggers.check(
                    TriggerInput(current["text"], emotion.label, emotion.intensity, decision, tuple(earlier[-6:]))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-dir", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--tagger", choices=["shipped", "none"], default="shipped")
    args = parser.parse_args()
    tag = shipped_tagger() if args.tagger == "shipped" else neutral_tagger
    triggers = Triggers()
    started = time.perf_counter()
    result = {
        "tagger": args.tagger,
        "complaints": complaints(read_jsonl(args.bench_dir / "complaints_escalation.jsonl"), tag, triggers),
        "uss": uss(read_jsonl(args.bench_dir / "uss_escalation.jsonl"), tag, triggers),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
