"""The privacy stage's periodic work in the server: expired requests dropped, delivered receipts scrubbed from
the outbox, and the retention purge when WARMDESK_RETENTION_DAYS is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete

from bot.privacy.stage import UNATTACHED_KINDS
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow
from storage.privacy import PrivacyStore

log = logging.getLogger("warmdesk.privacy")
PURGE_EVERY_SECONDS = 3600.0


def tidy(db: Database, store: PrivacyStore) -> int:
    """Receipts and consent questions keep a platform id only until they are delivered (or given up)."""
    with db.session() as session:
        scrubbed = session.exec(
            delete(OutboxMessage).where(
                OutboxMessage.customer_id.is_(None),
                OutboxMessage.kind.in_(UNATTACHED_KINDS),
                OutboxMessage.status != OutboxStatus.PENDING,
            )
        ).rowcount
    dropped = store.drop_expired_requests()
    if scrubbed:
        db.compact()
    return scrubbed + dropped


async def watch(
    stop: asyncio.Event,
    db: Database,
    store: PrivacyStore,
    every: float,
    purge: Callable[[datetime], object] | None = None,
    clock: Callable[[], datetime] = utcnow,
    purge_every: float = PURGE_EVERY_SECONDS,
) -> None:
    """Run `tidy` every `every` seconds and `purge` every `purge_every` seconds (first at start) until `stop`."""
    purged_at: float | None = None
    while not stop.is_set():
        try:
            await asyncio.to_thread(tidy, db, store)
            if purge is not None and (purged_at is None or time.monotonic() - purged_at >= purge_every):
                purged_at = time.monotonic()
                await asyncio.to_thread(purge, clock())
        except Exception:
            log.exception("privacy housekeeping failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
