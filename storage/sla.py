"""First-response figures of handoffs (handoff_sla): the target time, the first answer, breaches."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import HandoffSla


@dataclass(frozen=True, slots=True)
class SlaFigures:
    handoffs: int
    answered: int
    breached: int
    median_first_response_seconds: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "handoffs": self.handoffs,
            "answered": self.answered,
            "breached": self.breached,
            "median_first_response_seconds": self.median_first_response_seconds,
        }


class SlaRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, handoff_id: int, customer_id: int, requested_at: datetime, due_at: datetime) -> bool:
        try:
            with self._db.session() as session:
                session.add(
                    HandoffSla(handoff_id=handoff_id, customer_id=customer_id, requested_at=requested_at, due_at=due_at)
                )
            return True
        except IntegrityError:
            return False

    def get(self, handoff_id: int) -> HandoffSla | None:
        with self._db.session() as session:
            return session.get(HandoffSla, handoff_id)

    def answered(self, handoff_id: int, at: datetime, business_seconds: float) -> bool:
        """The first response only; later ones change nothing."""
        with self._db.session() as session:
            return bool(
                session.exec(
                    update(HandoffSla)
                    .where(HandoffSla.handoff_id == handoff_id, HandoffSla.first_response_at.is_(None))
                    .values(first_response_at=at, first_response_seconds=business_seconds)
                ).rowcount
            )

    def breach(self, handoff_id: int, at: datetime) -> bool:
        with self._db.session() as session:
            return bool(
                session.exec(
                    update(HandoffSla)
                    .where(
                        HandoffSla.handoff_id == handoff_id,
                        HandoffSla.first_response_at.is_(None),
                        HandoffSla.breached_at.is_(None),
                    )
                    .values(breached_at=at)
                ).rowcount
            )

    def figures(self, since: datetime) -> SlaFigures:
        with self._db.session() as session:
            rows = session.exec(select(HandoffSla).where(HandoffSla.requested_at >= since)).all()
        seconds = [r.first_response_seconds for r in rows if r.first_response_seconds is not None]
        return SlaFigures(
            handoffs=len(rows),
            answered=len(seconds),
            breached=sum(1 for r in rows if r.breached_at is not None),
            median_first_response_seconds=statistics.median(seconds) if seconds else None,
        )
