"""`run.py customer import FILE` and `run.py segments`: customers and orders in, RFM tiers and segments out."""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.business import load_business_file
from bot.care.customer_file import UnsupportedCustomerFile, read_customer_file
from bot.care.wiring import open_segments
from bot.runtime import open_database
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.segments import SegmentRepository

USER_MISTAKE = 2
EXPORT_COLUMNS = (
    "customer_id",
    "external_id",
    "name",
    "account_manager",
    "tier",
    "segment",
    "recency",
    "frequency",
    "monetary",
    "churn_risk",
    "orders",
    "total_amount",
    "last_order_at",
    "last_contact_at",
)


def register_import(customer: argparse._SubParsersAction) -> None:
    p = customer.add_parser("import", help="customers and their orders from .csv or .jsonl (validated first)")
    p.add_argument("file", type=Path)
    p.add_argument("--skip-bad", action="store_true", help="import the good rows even when some are bad")
    p.add_argument("--by", default="cli", help="who imports (recorded in the audit log)")
    p.set_defaults(handler=import_customers)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("segments", help="RFM tiers and segments, churn warnings (流失预警); export as CSV")
    p.add_argument("--recompute", action="store_true", help="compute now instead of showing the last nightly run")
    p.add_argument("--tier", help="only this tier (vip, high_potential, regular)")
    p.add_argument("--segment", help="only this segment (champions, loyal, new, at_risk, hibernating, ...)")
    p.add_argument("--churn", action="store_true", help="only customers at risk of churning")
    p.add_argument("--export", type=Path, help="write the listed customers to this CSV file")
    p.set_defaults(handler=segments)


def import_customers(settings: Settings, args: argparse.Namespace) -> int:
    try:
        loaded = read_customer_file(args.file)
    except UnsupportedCustomerFile as error:
        print(f"error: {error}", file=sys.stderr)
        return USER_MISTAKE
    for issue in loaded.errors:
        print(f"{args.file}:{issue.line}: {issue.message}", file=sys.stderr)
    if loaded.errors and not args.skip_bad:
        print(f"nothing imported: {len(loaded.errors)} problem(s); fix them or use --skip-bad", file=sys.stderr)
        return 1
    db = open_database(settings)
    report = SegmentRepository(db).import_customers(loaded.customers)
    CustomerRepository(db).audit(
        f"staff:{args.by}", "customer.import", None, {"file": args.file.name, "customers": len(loaded.customers)}
    )
    skipped = f", lines with {len(loaded.errors)} problem(s) skipped" if loaded.errors else ""
    print(
        f"customers: {report.created} new, {report.updated} updated, {report.unchanged} unchanged; "
        f"orders: {report.orders_added} new, {report.orders_updated} updated{skipped}"
    )
    return 0


def segments(settings: Settings, args: argparse.Namespace) -> int:
    db = open_database(settings)
    if args.recompute:
        business = load_business_file(settings.business_file)
        run = open_segments(business, db, ZoneInfo(settings.handoff_timezone)).compute()
        print(f"computed {run.customers} customers in {run.seconds:.1f} s")
    rows = SegmentRepository(db).segments(args.tier, args.segment, args.churn)
    tiers = Counter(row.tier for row, *_ in rows)
    groups = Counter(row.segment for row, *_ in rows)
    print(f"{len(rows)} customers; tiers: {_counts(tiers)}; segments: {_counts(groups)}")
    print(f"流失预警 / churn risk: {sum(row.churn_risk for row, *_ in rows)}")
    if args.export:
        with args.export.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(EXPORT_COLUMNS)
            for row, external_id, name, manager in rows:
                writer.writerow(
                    [row.customer_id, external_id, name, manager, row.tier, row.segment, row.recency, row.frequency,
                     row.monetary, row.churn_risk, row.orders, f"{row.total_amount:.2f}",
                     _iso(row.last_order_at), _iso(row.last_contact_at)]
                )  # fmt: skip
        CustomerRepository(db).audit("cli", "segments.export", None, {"rows": len(rows)})
        print(f"exported {len(rows)} customers to {args.export}")
    return 0


def _counts(counter: Counter) -> str:
    return ", ".join(f"{name} {count}" for name, count in counter.most_common()) or "-"


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""
