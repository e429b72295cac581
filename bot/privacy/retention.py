"""Retention (WARMDESK_RETENTION_DAYS): what is older than the window goes, except for customers on legal hold.

A customer not seen within the window is deleted entirely, as if they had asked; an active customer loses the
messages, deliveries and emotion alerts older than the window. What is kept of the purged rows are counts with
no identity (messages per day, per direction and per language), stored in `retention_run` and logged.
A plain function of `now`, so a scheduler (the server's housekeeping loop, or a durable job store) can run it.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import delete, func, true
from sqlmodel import select

from storage.customers import erase_customer
from storage.db import Database
from storage.models import (
    Customer,
    CustomerPrivacy,
    EmotionAlert,
    Message,
    OutboxMessage,
    OutboxStatus,
    RetentionRun,
)

log = logging.getLogger("warmdesk.privacy")
ACTOR = "retention"


def purge_expired(db: Database, now: datetime, days: int) -> RetentionRun:
    cutoff = now - timedelta(days=days)
    with db.session() as session:
        held = set(session.exec(select(CustomerPrivacy.customer_id).where(CustomerPrivacy.legal_hold)).all())
        old = select(Message.created_at, Message.direction, Message.language, Message.customer_id).where(
            Message.created_at < cutoff
        )
        counts: dict[str, Counter] = {"per_day": Counter(), "per_direction": Counter(), "per_language": Counter()}
        purged = 0
        for created_at, direction, language, customer_id in session.exec(old).all():
            if customer_id in held:
                continue
            purged += 1
            counts["per_day"][f"{created_at:%Y-%m-%d}"] += 1
            counts["per_direction"][direction] += 1
            counts["per_language"][language or "unknown"] += 1
        gone = [
            customer_id
            for customer_id in session.exec(select(Customer.id).where(Customer.last_seen_at < cutoff)).all()
            if customer_id not in held
        ]
        for customer_id in gone:
            erase_customer(session, customer_id, ACTOR)
        not_held = ~Message.customer_id.in_(held) if held else true()
        session.exec(delete(Message).where(Message.created_at < cutoff, not_held))
        session.exec(
            delete(OutboxMessage).where(
                OutboxMessage.created_at < cutoff,
                OutboxMessage.status != OutboxStatus.PENDING,
                ~OutboxMessage.customer_id.in_(held) if held else true(),
            )
        )
        session.exec(
            delete(EmotionAlert).where(
                EmotionAlert.created_at < cutoff, ~EmotionAlert.customer_id.in_(held) if held else true()
            )
        )
        run = RetentionRun(
            cutoff=cutoff,
            messages_deleted=purged,
            customers_deleted=len(gone),
            held_customers=len(held),
            counts={name: dict(counter) for name, counter in counts.items()},
            ran_at=now,
        )
        session.add(run)
    if purged or gone:
        db.compact()
    log.info(
        "retention purge (older than %s): %d messages and %d customers deleted, %d customers on legal hold kept",
        f"{cutoff:%Y-%m-%d %H:%M}",
        purged,
        len(gone),
        len(held),
    )
    return run


def retention_totals(db: Database) -> dict[str, int]:
    """All purges so far, as counts (for `customer stats` and the README's promise of aggregate figures)."""
    with db.session() as session:
        messages, customers = session.exec(
            select(
                func.coalesce(func.sum(RetentionRun.messages_deleted), 0),
                func.coalesce(func.sum(RetentionRun.customers_deleted), 0),
            )
        ).one()
    return {"messages_deleted": int(messages), "customers_deleted": int(customers)}
