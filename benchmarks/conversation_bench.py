"""Conversation benchmark: the shared runner's scripted conversations of another business, played through the
real server's web chat, with a desk (web console on) and without one (like a fresh `make run`).

    .venv/bin/python -m benchmarks.conversation_bench [--bench ../shared/bench] [--modes desk,nodesk] [--json OUT]

Each mode runs `conversations/run_conversations.py` (its docstring defines every figure) and prints its one
JSON line; --json writes {mode: figures} to OUT. See docs/benchmarks.md for the figures and targets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = REPO.parent / "shared" / "bench"
HEADLINE = ("conversation_ok", "answer_ok", "answer_wrong", "social_ok", "out_of_scope_ok", "unknown_ok")
HEADLINE_TAIL = ("handoff_ok", "false_handoff", "wrong_language_replies", "http_ms_p95")


def run_mode(bench: Path, mode: str, business: str = "pebble") -> dict:
    folder = bench / "conversations"
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as turns:
        done = subprocess.run(
            [
                sys.executable,
                str(folder / "run_conversations.py"),
                "--project",
                str(REPO),
                "--kb",
                str(folder / f"{business}_kb.jsonl"),
                "--conversations",
                str(folder / f"{business}_conversations.jsonl"),
                "--mode",
                mode,
                "--out",
                turns.name,
                "--python",
                sys.executable,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"conversation bench ({mode}) failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--modes", default="desk,nodesk")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.bench / "conversations" / "run_conversations.py").is_file():
        raise SystemExit(f"no conversation benchmark under {args.bench} (use --bench)")
    results = {}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        figures = run_mode(args.bench, mode)
        results[mode] = figures
        shown = ", ".join(f"{k} {figures.get(k)}" for k in (*HEADLINE, *HEADLINE_TAIL))
        print(f"conversations [{mode}]: {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
