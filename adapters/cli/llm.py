"""`run.py llm usage [--days N]`: the optional LLM's tokens per UTC day and purpose, against the daily budget.

Reads the `llm_usage` table only: it works with LLM mode off too (e.g. to look back after turning it off), and
imports nothing of langchain or openai.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from adapters.cli.errors import UsageError, plural
from bot.runtime import open_database
from bot.settings import Settings
from storage.llm_usage import LlmUsageRepository, PurposeTotal

MAX_DAYS = 366
COLUMNS = (("day", "<10"), ("purpose", "<10"), ("calls", ">6"), ("rejected", ">8"), ("errors", ">6"), ("in", ">10"))
HEADER = "  ".join(f"{name:{width}}" for name, width in COLUMNS) + f"  {'out':>9}  {'cost':>9}"


def register(commands: argparse._SubParsersAction) -> None:
    llm = commands.add_parser("llm", help="the optional LLM mode: tokens and cost per day").add_subparsers(
        dest="llm_command", required=True
    )
    p = llm.add_parser("usage", help="tokens per UTC day and purpose, against LLM_DAILY_TOKEN_BUDGET")
    p.add_argument("--days", default="7", help=f"how many days back, today included (1 to {MAX_DAYS}; default 7)")
    p.set_defaults(handler=usage)


def _days(given: str) -> int:
    try:
        days = int(given)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days must be a whole number from 1 to {MAX_DAYS}, not {given!r}")
    return days


def usage(settings: Settings, args: argparse.Namespace, today: datetime | None = None) -> int:
    days = _days(args.days)
    first = ((today or datetime.now(UTC)).date() - timedelta(days=days - 1)).isoformat()
    rows = LlmUsageRepository(open_database(settings)).by_day_and_purpose(first)
    budget = settings.llm_daily_token_budget
    mode = f"model {settings.llm_model}" if settings.llm_enabled else "LLM mode is off (LLM_MODEL not set)"
    print(f"{mode}; daily budget: {f'{budget:,} tokens' if budget else 'no limit'}; since {first} (UTC)")
    if not rows:
        print(f"no LLM calls in the last {plural(days, 'day')}")
        return 0
    print(HEADER)
    by_day: dict[str, list[PurposeTotal]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    for day, parts in by_day.items():
        for row in parts:
            print(
                f"{day:<10}  {row.purpose:<10}  {row.calls:>6}  {row.rejected:>8}  {row.errors:>6}  "
                f"{row.input_tokens:>10,}  {row.output_tokens:>9,}  {row.cost:>9.4f}"
            )
        tokens = sum(row.tokens for row in parts)
        share = f" = {tokens / budget:.0%} of the budget" if budget else ""
        print(f"{day:<10}  {'total':<10}  {tokens:,} tokens{share}, cost {sum(r.cost for r in parts):.4f}")
    return 0
