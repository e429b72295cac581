"""`run.py customer ...`: look a customer up, export everything about them, or forget them."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from adapters.cli import segments as segment_commands
from adapters.cli.errors import plural
from bot.business import load_business_file
from bot.emotion.profile import EmotionProfile, ProfileRules, build_profile
from bot.emotion_watch import emotion_records, load_emotion_rules
from bot.outbox import Outbox
from bot.runtime import open_database
from bot.settings import Settings
from storage.customer_list import list_customers
from storage.customers import CustomerRepository
from storage.emotions import EmotionStore
from storage.models import Customer
from storage.privacy import PrivacyStore

SHOWN_MESSAGES = 20


def register(commands: argparse._SubParsersAction) -> None:
    customer = commands.add_parser("customer", help="look up, export or forget a customer").add_subparsers(
        dest="customer_command", required=True
    )
    segment_commands.register_import(customer)  # `customer import` (relationship care)
    p = customer.add_parser("show", help="identities, recent messages with emotions, handoffs, notes")
    p.add_argument("query", help="customer id (#12), platform user id, phone, email or part of the name")
    p.set_defaults(handler=show)

    p = customer.add_parser("list", help="customers by latest activity, e.g. to find an anonymous web visitor")
    p.add_argument("--channel", help="only customers seen on this platform (web, telegram, wechat, console)")
    p.add_argument("--since", type=_since, help="only customers active since this date (YYYY-MM-DD or ISO time, UTC)")
    p.set_defaults(handler=list_command)

    p = customer.add_parser("stats", help="emotion metrics over all customers: conversion rate, recovery time, alerts")
    p.set_defaults(handler=stats)

    p = customer.add_parser("export", help="everything stored about a customer, as JSON")
    p.add_argument("query")
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.set_defaults(handler=export)

    p = customer.add_parser("hold", help="legal hold: retention purges and deletion requests leave the customer alone")
    p.add_argument("query")
    switch = p.add_mutually_exclusive_group(required=True)
    switch.add_argument("--on", dest="hold", action="store_true", help="put the customer on legal hold")
    switch.add_argument("--off", dest="hold", action="store_false", help="lift the legal hold")
    p.set_defaults(handler=hold)

    p = customer.add_parser("forget", help="delete a customer and all their messages")
    p.add_argument("query")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=forget)


def _since(given: str) -> datetime:
    try:
        moment = datetime.fromisoformat(given)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {given!r} (expected YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _masked(platform: str, platform_user_id: str) -> str:
    """A web chat's session id is the key to its history: shown only far enough to tell visitors apart."""
    if platform == "web" and len(platform_user_id) > 8:
        return f"{platform}:{platform_user_id[:6]}…"
    return f"{platform}:{platform_user_id}"


def list_command(settings: Settings, args: argparse.Namespace) -> int:
    db = open_database(settings)
    listed = list_customers(db, channel=args.channel, since=args.since)
    CustomerRepository(db).audit(
        "cli", "customer.list", None, {"channel": args.channel, "since": args.since.isoformat() if args.since else None}
    )
    if not listed:
        print("no customers match")
        return 0
    for row in listed:
        c = row.customer
        accounts = ", ".join(_masked(i.platform, i.platform_user_id) for i in row.identities) or "-"
        last = f"  “{_short(row.last_text, 50)}”" if row.last_text else ""
        print(
            f"#{c.id}\t{c.display_name or '(no name)'}\t{accounts}\t{c.language or '-'}\t"
            f"last seen {c.last_seen_at:%Y-%m-%d %H:%M}\t{row.messages} msg{last}"
        )
    return 0


def _repository(settings: Settings) -> CustomerRepository:
    return CustomerRepository(open_database(settings))


def _one(repository: CustomerRepository, query: str) -> Customer | None:
    matches = repository.find(query)
    if not matches:
        print(f"no customer matches {query!r}", file=sys.stderr)
        return None
    if len(matches) > 1:
        print(f"{len(matches)} customers match {query!r}; use an id:", file=sys.stderr)
        for match in matches[:10]:
            print(f"  #{match.id}  {match.display_name or ''}", file=sys.stderr)
        return None
    return matches[0]


def show(settings: Settings, args: argparse.Namespace) -> int:
    db = open_database(settings)
    repository = CustomerRepository(db)
    customer = _one(repository, args.query)
    if customer is None:
        return 1
    view = repository.view(customer.id, message_limit=SHOWN_MESSAGES)
    repository.audit("cli", "customer.show", f"customer:{customer.id}")
    c = view.customer
    print(f"Customer #{c.id}  {c.display_name or '(no name)'}  tier: {c.tier}  language: {c.language or '-'}")
    print(f"  first seen {c.created_at:%Y-%m-%d %H:%M}, last seen {c.last_seen_at:%Y-%m-%d %H:%M} (UTC)")
    for identity in view.identities:
        print(f"  {identity.platform}: {identity.platform_user_id}")
    print(f"Last {len(view.messages)} messages:")
    for m in view.messages:
        arrow = "←" if m.direction == "in" else "→"
        emotion = f"[{m.emotion_label} {m.emotion_intensity:.2f}] " if m.direction == "in" and m.emotion_label else ""
        decision = f" ({m.decision}{': ' + m.faq_id if m.faq_id else ''})" if m.direction == "in" else ""
        print(f"  {m.created_at:%m-%d %H:%M} {arrow} {emotion}{_short(m.shown_text)}{decision}")
    emotions = EmotionStore(db)
    profile = build_profile(emotion_records(emotions.tagged_messages(customer.id)), _emotion_rules(settings))
    if profile.messages:
        print("Emotion profile (情绪画像):")
        for line in _profile_lines(profile):
            print(f"  {line}")
    for conversation in emotions.at_risk_conversations(customer.id):
        print(f"At-risk conversation #{conversation.id} on {conversation.platform} ({conversation.state})")
    for alert in emotions.alerts(customer.id):
        print(f"Alert {alert.created_at:%Y-%m-%d}: {alert.reason}")
    for handoff in view.handoffs:
        print(f"Handoff #{handoff.id}: {handoff.status}, {handoff.reason}")
    for note in view.notes:
        print(f"Note by {note.author}: {note.text}")
    failed = Outbox(db).failed_for(customer.id)
    if failed:
        print(f"Failed deliveries ({len(failed)}):")
    for row in failed:
        print(f"  #{row.id} {row.created_at:%m-%d %H:%M} {row.platform} after {row.attempts} tries: {row.last_error}")
        print(f"      {_short(row.text)}")
    return 0


def stats(settings: Settings, args: argparse.Namespace) -> int:
    emotions = EmotionStore(open_database(settings))
    profile = build_profile(emotion_records(emotions.tagged_messages()), _emotion_rules(settings))
    if not profile.messages:
        print("no tagged messages yet")
        return 0
    conversations = plural(len(profile.conversations), "conversation")
    print(f"All customers: {plural(profile.messages, 'tagged message')} in {conversations}")
    for line in _profile_lines(profile):
        print(f"  {line}")
    print(
        f"  at-risk conversations: {len(emotions.at_risk_conversations())}, open alerts: "
        f"{len(emotions.alerts(open_only=True))}"
    )
    return 0


def _emotion_rules(settings: Settings) -> ProfileRules:
    return load_emotion_rules(load_business_file(settings.business_file))


def _profile_lines(profile: EmotionProfile) -> list[str]:
    counts = ", ".join(f"{label} {n}" for label, n in sorted(profile.counts.items(), key=lambda kv: -kv[1]))
    lines = [
        f"trend {profile.sparkline}  messages {profile.message_trend}, conversations {profile.conversation_trend}",
        f"{counts}; dominant: {', '.join(profile.dominant) or '-'}",
    ]
    if profile.negative_faq_ids or profile.negative_keywords:
        topics = [faq for faq, _ in profile.negative_faq_ids] + [word for word, _ in profile.negative_keywords]
        lines.append(f"negative around: {', '.join(topics)}")
    conversion = "-" if profile.conversion_rate is None else f"{profile.conversion_rate:.0%}"
    recovery = "-" if profile.recovery_seconds_median is None else _duration(profile.recovery_seconds_median)
    lines.append(
        f"negative conversations {profile.negative_conversations}, emotion conversion rate {conversion}, "
        f"median recovery time {recovery}"
    )
    return lines


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def export(settings: Settings, args: argparse.Namespace) -> int:
    repository = _repository(settings)
    customer = _one(repository, args.query)
    if customer is None:
        return 1
    data = json.dumps(repository.export(customer.id, actor="cli"), ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(data + "\n", encoding="utf-8")
        print(f"wrote customer #{customer.id} to {args.out}")
    else:
        print(data)
    return 0


def forget(settings: Settings, args: argparse.Namespace) -> int:
    repository = _repository(settings)
    customer = _one(repository, args.query)
    if customer is None:
        return 1
    if not args.yes:
        answer = input(f"Delete customer #{customer.id} and all their messages? Type 'yes': ")
        if answer.strip().lower() != "yes":
            print("nothing deleted")
            return 1
    repository.forget(customer.id, actor="cli")
    print(f"customer #{customer.id} and their data are deleted")
    return 0


def hold(settings: Settings, args: argparse.Namespace) -> int:
    db = open_database(settings)
    customer = _one(CustomerRepository(db), args.query)
    if customer is None:
        return 1
    PrivacyStore(db).set_legal_hold(customer.id, args.hold, actor="cli")
    state = "on legal hold: kept by retention purges and deletion requests" if args.hold else "no longer on legal hold"
    print(f"customer #{customer.id} is {state}")
    return 0


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
