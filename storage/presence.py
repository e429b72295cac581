"""Which console agents used a desk recently, in the database so that every server process knows it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import DeskPresence


class PresenceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, agent: str, seen_at: datetime) -> None:
        """`agent` used a desk at `seen_at` (a later time only moves it forward). Blocking: a database write."""
        statement = (
            update(DeskPresence)
            .where(DeskPresence.agent == agent, DeskPresence.seen_at < seen_at)
            .values(seen_at=seen_at)
        )
        with self._db.session() as session:
            if session.exec(statement).rowcount == 1 or session.get(DeskPresence, agent) is not None:
                return
        try:
            with self._db.session() as session:
                session.add(DeskPresence(agent=agent, seen_at=seen_at))
        except IntegrityError:  # another process recorded the same agent a moment ago
            with self._db.session() as session:
                session.exec(statement)

    def seen_since(self, since: datetime) -> dict[str, datetime]:
        """When each agent seen at or after `since` was last seen. Blocking: a database read."""
        with self._db.session() as session:
            rows = session.exec(select(DeskPresence).where(DeskPresence.seen_at >= since)).all()
            return {row.agent: row.seen_at for row in rows}
