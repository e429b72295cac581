"""`run.py customer ...`: look a customer up, export everything about them, or forget them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from adapters.cli import segments as segment_commands
from bot.emotion.profile import EmotionProfile, build_profile
from bot.emotion_watch import emotion_records
from bot.outbox import Outbox
from bot.runtime import open_database
from bot.settings import Settings
from storage.customers import CustomerRepository
from storage.emotions import EmotionStore
from storage.models import Customer

SHOWN_MESSAGES = 20


def register(commands: argparse._SubParsersAction) -> None:
    customer = commands.add_parser("customer", help="look up, export or forget a customer").add_subparsers(
        dest="customer_command", required=True
    )
    segment_commands.register_import(customer)  # `customer import` (relationship care)
    p = customer.add_parser("show", help="identities, recent messages with emotions, handoffs, notes")
    p.add_argument("query", help="customer id (#12), platform user id, phone, email or part of the name")
    p.set_defaults(handler=show)

    p = customer.add_parser("stats", help="emotion metrics over all customers: conversion rate, recovery time, alerts")
    p.set_defaults(handler=stats)

    p = customer.add_parser("export", help="everything stored about a customer, as JSON")
    p.add_argument("query")
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.set_defaults(handler=export)

    p = customer.add_parser("forget", help="delete a customer and all their messages")
    p.add_argument("query")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=forget)


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
    profile = build_profile(emotion_records(emotions.tagged_messages(customer.id)))
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
    profile = build_profile(emotion_records(emotions.tagged_messages()))
    if not profile.messages:
        print("no tagged messages yet")
        return 0
    print(f"All customers: {profile.messages} tagged messages in {len(profile.conversations)} conversations")
    for line in _profile_lines(profile):
        print(f"  {line}")
    print(
        f"  at-risk conversations: {len(emotions.at_risk_conversations())}, open alerts: "
        f"{len(emotions.alerts(open_only=True))}"
    )
    return 0


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


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
