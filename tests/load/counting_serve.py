"""`run.py serve` with its SQL statements and transactions counted, for the load runs' per-message figures.

Run as `python -m tests.load.counting_serve FILE serve ...`: the counts (by statement kind and table) are
written to FILE as JSON every half second, so a run reads them before and after its measured window. Also
counted: the CPU time of the threads that ran a query embedding (`embed_cpu_us`; OpenMP's helper thread, used
only when one embedding runs alone, is not in it), so the rest of the server's CPU time can be told apart.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
_counts: Counter[str] = Counter()
_lock = threading.Lock()


@event.listens_for(Engine, "before_cursor_execute")
def _statement(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
    table = _TABLE.search(statement)
    with _lock:
        _counts["statements"] += 1
        _counts[f"{verb} {table.group(1) if table else ''}".strip()] += 1


@event.listens_for(Engine, "commit")
def _commit(_connection) -> None:
    with _lock:
        _counts["commits"] += 1


def _count_embedding_cpu() -> None:
    from knowledge.embedder import Embedder

    query = Embedder.query

    def counted(self, text):
        started = time.thread_time()
        try:
            return query(self, text)
        finally:
            spent = round((time.thread_time() - started) * 1e6)
            with _lock:
                _counts["embed_cpu_us"] += spent

    Embedder.query = counted


def _write_every(path: Path, seconds: float) -> None:
    while True:
        with _lock:
            snapshot = dict(_counts)
        path.with_suffix(".tmp").write_text(json.dumps(snapshot))
        path.with_suffix(".tmp").replace(path)
        time.sleep(seconds)


def read_counts(path: Path) -> Counter[str]:
    """The counts the server last wrote (empty before its first write)."""
    try:
        return Counter(json.loads(path.read_text()))
    except (OSError, ValueError):
        return Counter()


if __name__ == "__main__":
    out = Path(sys.argv[1])
    threading.Thread(target=_write_every, args=(out, 0.5), daemon=True).start()
    _count_embedding_cpu()
    import run

    sys.exit(run.main(sys.argv[2:]))
