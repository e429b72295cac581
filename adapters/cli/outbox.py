"""`run.py outbox ...`: what is waiting, delivered or failed, and sending failed messages again."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.outbox import Outbox
from bot.runtime import open_database, retry_policy
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.db import row_id
from storage.models import OutboxStatus

STATUSES = (OutboxStatus.PENDING, OutboxStatus.DELIVERED, OutboxStatus.FAILED)


def register(commands: argparse._SubParsersAction) -> None:
    outbox = commands.add_parser("outbox", help="messages to customers: list them, re-queue failed ones")
    actions = outbox.add_subparsers(dest="outbox_command", required=True)

    p = actions.add_parser("list", help="newest first: id, status, platform, attempts, the last error")
    p.add_argument("--status", help="only pending, delivered or failed messages")
    p.add_argument("--limit", default="50", help="how many (default 50)")
    p.set_defaults(handler=list_messages)

    p = actions.add_parser("retry", help="send failed messages again, with a fresh retry window")
    p.add_argument("ids", nargs="*", help="outbox message ids (see `outbox list --status failed`)")
    p.add_argument("--all-failed", action="store_true", help="every failed message")
    p.set_defaults(handler=retry)


def list_messages(settings: Settings, args: argparse.Namespace) -> int:
    if args.status is not None and args.status not in STATUSES:
        return _mistake(f"--status must be one of {', '.join(STATUSES)}, not {args.status!r}")
    limit = row_id(args.limit)
    if not limit:
        return _mistake(f"--limit must be a whole number above 0, not {args.limit!r}")
    rows = Outbox(open_database(settings)).listing(args.status, limit=limit)
    if not rows:
        print("no messages" + (f" with status {args.status}" if args.status else ""))
    for row in rows:
        when = row.created_at.strftime("%Y-%m-%d %H:%M")
        error = f"  {row.last_error}" if row.last_error and row.status != OutboxStatus.DELIVERED else ""
        print(f"#{row.id}  {row.status:<9}  {row.platform:<8}  {row.kind:<14}  {row.attempts:>3} tries  {when}{error}")
    return 0


def retry(settings: Settings, args: argparse.Namespace) -> int:
    if args.all_failed == bool(args.ids):
        return _mistake("give outbox message ids or --all-failed (not both)")
    ids = [row_id(text) for text in args.ids]
    if None in ids:
        return _mistake(f"not an outbox message id: {args.ids[ids.index(None)]!r}")
    db = open_database(settings)
    outbox = Outbox(db, retry=retry_policy(settings))
    if not args.all_failed:
        not_failed = [i for i in ids if (row := outbox.get(i)) is None or row.status != OutboxStatus.FAILED]
        if not_failed:
            return _mistake(f"no failed outbox message #{not_failed[0]} (see `outbox list --status failed`)")
    requeued = outbox.retry(None if args.all_failed else ids)
    actor = f"staff:{getpass.getuser()}"
    CustomerRepository(db).audit(actor, "outbox.retry", ",".join(f"outbox:{i}" for i in requeued) or None)
    print(f"re-queued {len(requeued)} message{'s' if len(requeued) != 1 else ''}; a running server sends them now")
    return 0


def _mistake(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
