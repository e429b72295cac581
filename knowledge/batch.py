"""`kb ask --batch`: answer a JSONL file of {"text": ...} lines, one result line per input, in order."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from knowledge.base import KnowledgeBase


def ask_batch(
    kb: KnowledgeBase,
    in_path: Path | str,
    out_path: Path | str,
    on_result: Callable[[dict, dict], None] | None = None,
) -> int:
    """Write {"text", "faq_id", "top", "score", "decision", "latency_ms"} per input line; returns the count.

    `faq_id` is null unless the bot would answer directly. `latency_ms` includes embedding the text.
    `on_result(input_record, output_record)` lets benchmarks score as they go.
    """
    kb.warm_up()
    count = 0
    with Path(out_path).open("w", encoding="utf-8") as out:
        for record in _read_records(Path(in_path)):
            text = str(record.get("text") or "")
            started = time.perf_counter()
            retrieval = kb.search(text)
            latency_ms = (time.perf_counter() - started) * 1000
            result = {
                "text": text,
                "faq_id": retrieval.faq_id,
                "top": retrieval.top,
                "score": round(retrieval.score, 4),
                "decision": retrieval.decision,
                "latency_ms": round(latency_ms, 2),
            }
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            if on_result:
                on_result(record, result)
            count += 1
    return count


def _read_records(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: bad JSON: {error.msg}") from error
            yield record if isinstance(record, dict) else {"text": str(record)}
