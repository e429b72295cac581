"""`run.py insights ...`: export a dashboard figure (or every conversation / message) to a file, and the weekly
digest (printed, or posted to Slack with --post)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from adapters.insights_api import EXPORTS, csv_stream, parse_range
from bot.insights import FIGURES, Insights, insight_settings
from bot.insights.digest import weekly_digest
from bot.runtime import open_database
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.reports import ReportFilter

ACTOR = "cli"


def register(commands: argparse._SubParsersAction) -> None:
    insights = commands.add_parser("insights", help="manager reports: export figures, the weekly digest")
    sub = insights.add_subparsers(dest="insights_command", required=True)
    p = sub.add_parser("export", help="one figure's table (or every conversation / message) as CSV or JSON")
    p.add_argument("figure", help=f"one of {', '.join([*FIGURES, *EXPORTS])}")
    p.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.json (CSV for other names)")
    p.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default 30 days before --to)")
    p.add_argument("--to", dest="end", help="last day, YYYY-MM-DD, included (default now)")
    p.add_argument("--channel")
    p.add_argument("--language")
    p.add_argument("--tier")
    p.set_defaults(handler=export)
    p = sub.add_parser("digest", help="the weekly digest: this week against the last")
    p.add_argument("--to", dest="end", help="the week ends at the end of this day (default now)")
    p.add_argument("--post", action="store_true", help="post it to WARMDESK_DIGEST_SLACK_CHANNEL")
    p.add_argument("--language", choices=("en", "zh"), help="default WARMDESK_HANDOFF_AGENT_LANGUAGE")
    p.set_defaults(handler=digest)
    p = sub.add_parser("rollup", help="bring the insights rollups up to 24 h ago (run hourly from cron)")
    p.add_argument("--rebuild", action="store_true", help="recompute them from scratch (after retagging FAQs)")
    p.set_defaults(handler=rollup)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def export(settings: Settings, args: argparse.Namespace) -> int:
    if args.figure not in FIGURES and args.figure not in EXPORTS:
        return _fail(f"no figure {args.figure!r}; one of {', '.join([*FIGURES, *EXPORTS])}")
    as_json = args.out.suffix.lower() == ".json"
    if as_json and args.figure in EXPORTS:
        return _fail(f"the {args.figure} export is CSV only: give --out FILE.csv")
    if not args.out.parent.is_dir():
        return _fail(f"no folder {args.out.parent} for --out")
    try:
        period = parse_range(args.start, args.end)
    except ValueError as error:
        return _fail(str(error))
    filters = ReportFilter(args.channel, args.language, args.tier)
    db = open_database(settings)
    detail = {"from": period.start.isoformat(), "to": period.end.isoformat(), **asdict(filters)}
    try:
        with args.out.open("w", encoding="utf-8", newline="") as out:
            if args.figure in EXPORTS:
                columns, rows = EXPORTS[args.figure]
                out.writelines(csv_stream(columns, rows(db, period, filters)))
            else:
                figure = Insights(db, insight_settings(settings)).figure(args.figure, period, filters)
                if as_json:
                    json.dump(figure.as_json(), out, ensure_ascii=False, indent=2, default=str)
                else:
                    out.writelines(csv_stream(figure.columns, figure.rows))
    except OSError as error:
        return _fail(f"cannot write {args.out}: {error.strerror}")
    CustomerRepository(db).audit(ACTOR, "insights.export", f"figure:{args.figure}", detail)
    print(f"wrote {args.figure} ({period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}) to {args.out}")
    return 0


def digest(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.slack_digest import digest_blocks, post_digest

    language = args.language or settings.handoff_agent_language
    if args.post and not (settings.slack_bot_token and settings.digest_slack_channel):
        return _fail("--post needs SLACK_BOT_TOKEN and WARMDESK_DIGEST_SLACK_CHANNEL")
    try:
        period = parse_range(None, args.end)
    except ValueError as error:
        return _fail(str(error))
    db = open_database(settings)
    result = weekly_digest(Insights(db, insight_settings(settings)), period.end)
    CustomerRepository(db).audit(ACTOR, "insights.digest", None, {"to": period.end.isoformat(), "post": args.post})
    if not args.post:
        for block in digest_blocks(result, language):
            text = block.get("text", {}).get("text")
            print(text if text else "")
        return 0
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_base_url)
    try:
        ts = post_digest(client, settings.digest_slack_channel, result, language)
    except SlackApiError as error:
        print(f"error: Slack refused the digest ({error.response.get('error')})", file=sys.stderr)
        return 1
    print(f"posted the digest to {settings.digest_slack_channel} (ts {ts})")
    return 0


def rollup(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.insights.rollups import refresh_rollups

    db = open_database(settings)
    run = refresh_rollups(db, datetime.now(UTC), rebuild=args.rebuild)
    if run.until is None:
        print("the insights rollups are up to date")
    else:
        print(
            f"insights rollups up to {run.until.isoformat()}: "
            f"{run.questions} questions, {run.conversations} conversations"
        )
    return 0
