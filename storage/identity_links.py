"""One customer, many channels: one-time link codes and merging two customers' records into one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, SQLModel, select

from storage.db import Database
from storage.models import AuditLog, Customer, Identity, LinkCode, capped_name, utcnow

# No 0/O, 1/I/L: codes are read on one phone and typed on another.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_HALF = 4


class LinkOutcome:
    LINKED = "linked"
    ALREADY = "already"
    SAME_ACCOUNT = "same_account"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: str
    customer_id: int | None = None


class IdentityLinks:
    def __init__(self, db: Database, ttl: timedelta = timedelta(minutes=10), clock: Callable[[], datetime] = utcnow):
        self._db = db
        self.ttl = ttl
        self._clock = clock

    def issue(self, platform: str, platform_user_id: str) -> str:
        """A fresh code for this account; earlier unused codes of the account stop working."""
        code = _new_code()
        now = self._clock()
        with self._db.session() as session:
            session.exec(
                delete(LinkCode).where(
                    (LinkCode.expires_at <= now)
                    | ((LinkCode.platform == platform) & (LinkCode.platform_user_id == platform_user_id))
                )
            )
            session.add(
                LinkCode(code=code, platform=platform, platform_user_id=platform_user_id, expires_at=now + self.ttl)
            )
        return code

    def redeem(self, code: str, platform: str, platform_user_id: str, display_name: str | None = None) -> LinkResult:
        """Join the account that sent `code` to the customer who asked for it; a valid code from another account
        is used up, whatever the outcome."""
        code = normalize_code(code)
        with self._db.session() as session:
            issued = session.get(LinkCode, code)
            if issued is None or _aware(issued.expires_at) <= self._clock():
                return LinkResult(LinkOutcome.INVALID)
            if (issued.platform, issued.platform_user_id) == (platform, platform_user_id):
                return LinkResult(LinkOutcome.SAME_ACCOUNT)
            # Deleting by key and checking the row count makes the code single-use even under concurrency.
            if session.exec(delete(LinkCode).where(LinkCode.code == code)).rowcount != 1:
                return LinkResult(LinkOutcome.INVALID)
            owner = _identity(session, issued.platform, issued.platform_user_id)
            if owner is None:
                return LinkResult(LinkOutcome.INVALID)
            sender = _identity(session, platform, platform_user_id)
            if sender is None:
                session.add(
                    Identity(
                        customer_id=owner.customer_id,
                        platform=platform,
                        platform_user_id=platform_user_id,
                        display_name=capped_name(display_name),
                    )
                )
            elif sender.customer_id == owner.customer_id:
                return LinkResult(LinkOutcome.ALREADY, owner.customer_id)
            else:
                keep = merge_customers(session, owner.customer_id, sender.customer_id)
                return LinkResult(LinkOutcome.LINKED, keep)
            session.add(AuditLog(actor="customer", action="customer.link", target=f"customer:{owner.customer_id}"))
        return LinkResult(LinkOutcome.LINKED, owner.customer_id)


def merge_customers(session: Session, first_id: int, second_id: int) -> int:
    """Move everything of one customer onto the other (the older one stays) and delete the emptied one."""
    keep_id, gone_id = sorted((first_id, second_id))
    keep, gone = session.get(Customer, keep_id), session.get(Customer, gone_id)
    # Every table that points at a customer, including ones added after this was written.
    for table in SQLModel.metadata.sorted_tables:
        if "customer_id" in table.c:
            session.exec(update(table).where(table.c.customer_id == gone_id).values(customer_id=keep_id))
    for attribute in ("display_name", "email", "phone", "language"):
        if getattr(keep, attribute) is None:
            setattr(keep, attribute, getattr(gone, attribute))
    if keep.tier == "standard":
        keep.tier = gone.tier
    keep.last_seen_at = max(_aware(keep.last_seen_at), _aware(gone.last_seen_at))
    session.add(keep)
    session.flush()
    session.exec(delete(Customer).where(Customer.id == gone_id))
    session.add(
        AuditLog(
            actor="customer",
            action="customer.merge",
            target=f"customer:{keep_id}",
            detail={"merged_customer": gone_id},
        )
    )
    return keep_id


def normalize_code(text: str) -> str:
    return text.strip().upper().replace(" ", "")


def _new_code() -> str:
    characters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(2 * CODE_HALF))
    return f"{characters[:CODE_HALF]}-{characters[CODE_HALF:]}"


def _identity(session: Session, platform: str, platform_user_id: str) -> Identity | None:
    query = select(Identity).where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
    return session.exec(query).first()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
