"""The privacy stage's periodic work in the server: expired requests dropped, delivered receipts scrubbed from
the outbox, and the retention purge when WARMDESK_RETENTION_DAYS is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import select

from bot.privacy.stage import EXPORT_LINK_KIND, EXPORT_PATH, LINK_PLACEHOLDER, UNATTACHED_KINDS
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow
from storage.privacy import PrivacyStore

log = logging.getLogger("warmdesk.privacy")
PURGE_EVERY_SECONDS = 3600.0
_LINK = re.compile(r"\S*" + re.escape(EXPORT_PATH) + r"[A-Za-z0-9_-]+")


def tidy(db: Database, store: PrivacyStore, link_minutes: float = 30, now: datetime | None = None) -> int:
    """Receipts and consent questions keep a platform id only until they are delivered (or given up); a download
    link waiting in the outbox (WeChat) keeps its key only until it is delivered or has expired."""
    now = now or utcnow()
    with db.session() as session:
        scrubbed = session.exec(
            delete(OutboxMessage).where(
                OutboxMessage.customer_id.is_(None),
                OutboxMessage.kind.in_(UNATTACHED_KINDS),
                OutboxMessage.status != OutboxStatus.PENDING,
            )
        ).rowcount
        scrubbed += _scrub_links(session, now - timedelta(minutes=link_minutes))
    dropped = store.drop_expired_requests()
    if scrubbed:
        db.compact()
    return scrubbed + dropped


def _scrub_links(session, expired_before: datetime) -> int:
    """Delivered, failed or expired link messages lose the link; an expired one still waiting is not sent."""
    rows = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.kind == EXPORT_LINK_KIND,
            (OutboxMessage.status != OutboxStatus.PENDING) | (OutboxMessage.created_at < expired_before),
            OutboxMessage.text.contains(EXPORT_PATH),
        )
    ).all()
    for row in rows:
        row.text = _LINK.sub(LINK_PLACEHOLDER, row.text)
        if row.status == OutboxStatus.PENDING:
            row.status, row.last_error = OutboxStatus.FAILED, "the download link expired before it was delivered"
        session.add(row)
    return len(rows)


async def watch(
    stop: asyncio.Event,
    db: Database,
    store: PrivacyStore,
    every: float,
    purge: Callable[[datetime], object] | None = None,
    clock: Callable[[], datetime] = utcnow,
    purge_every: float = PURGE_EVERY_SECONDS,
    link_minutes: float = 30,
) -> None:
    """Run `tidy` every `every` seconds and `purge` every `purge_every` seconds (first at start) until `stop`."""
    purged_at: float | None = None
    while not stop.is_set():
        try:
            await asyncio.to_thread(tidy, db, store, link_minutes)
            if purge is not None and (purged_at is None or time.monotonic() - purged_at >= purge_every):
                purged_at = time.monotonic()
                await asyncio.to_thread(purge, clock())
        except Exception:
            log.exception("privacy housekeeping failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
