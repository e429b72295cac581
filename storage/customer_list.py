"""Customers listed for staff, newest activity first: the way to find one who gave no name (a web visitor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from storage.db import Database
from storage.models import Customer, Identity, Message

MAX_LISTED = 200


@dataclass(frozen=True, slots=True)
class ListedCustomer:
    customer: Customer
    identities: list[Identity]
    messages: int
    last_text: str | None  # the customer's newest message


def list_customers(
    db: Database, channel: str | None = None, since: datetime | None = None, limit: int = MAX_LISTED
) -> list[ListedCustomer]:
    """Customers seen on `channel` (a platform: web, telegram, wechat, console) and since `since`."""
    with db.session() as session:
        query = select(Customer).order_by(Customer.last_seen_at.desc(), Customer.id.desc()).limit(limit)
        if channel:
            query = query.where(Customer.id.in_(select(Identity.customer_id).where(Identity.platform == channel)))
        if since is not None:
            query = query.where(Customer.last_seen_at >= since)
        customers = session.exec(query).all()
        ids = [c.id for c in customers]
        if not ids:
            return []
        identities: dict[int, list[Identity]] = {}
        for identity in session.exec(select(Identity).where(Identity.customer_id.in_(ids)).order_by(Identity.id)):
            identities.setdefault(identity.customer_id, []).append(identity)
        counts = dict(
            session.exec(
                select(Message.customer_id, func.count(Message.id))
                .where(Message.customer_id.in_(ids), Message.direction == "in")
                .group_by(Message.customer_id)
            ).all()
        )
        newest = (
            select(func.max(Message.id))
            .where(Message.customer_id.in_(ids), Message.direction == "in")
            .group_by(Message.customer_id)
        )
        last = {m.customer_id: m.shown_text for m in session.exec(select(Message).where(Message.id.in_(newest)))}
        return [ListedCustomer(c, identities.get(c.id, []), counts.get(c.id, 0), last.get(c.id)) for c in customers]
