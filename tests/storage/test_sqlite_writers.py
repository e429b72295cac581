"""Many threads of one server process writing to SQLite at once: they queue, none fails as "database is locked"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.messages import OutboundMessage
from bot.outbox import Outbox
from storage.db import Database, DatabaseTimeouts
from storage.models import OutboxMessage


def test_thirty_two_threads_writing_at_once_all_get_through_within_a_short_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'crm.db'}", DatabaseTimeouts(sqlite_busy_seconds=0.01))
    db.migrate()
    outbox = Outbox(db)

    def write(worker: int) -> None:
        for n in range(25):
            outbox.enqueue(OutboundMessage("telegram", f"u{worker}", f"reply {n}", "en", chat_id=f"c{worker}"))

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(write, range(32)))  # re-raises a "database is locked" from any thread
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar() == 32 * 25
    db.dispose()
