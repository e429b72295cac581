"""Tokens and cost of the optional LLM, per call (and so per message) and per UTC day."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func
from sqlmodel import select

from storage.db import Database
from storage.models import LlmUsage


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class PurposeTotal:
    """One UTC day's calls of one purpose (answer, summary, suggest, translate)."""

    day: str
    purpose: str
    calls: int
    rejected: int  # failed the grounding check
    errors: int
    input_tokens: int
    output_tokens: int
    cost: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class LlmUsageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, usage: LlmUsage) -> None:
        with self._db.session() as session:
            session.add(usage)

    def tokens_on(self, day: str) -> int:
        query = select(func.coalesce(func.sum(LlmUsage.input_tokens + LlmUsage.output_tokens), 0)).where(
            LlmUsage.day == day
        )
        with self._db.session() as session:
            return int(session.execute(query).scalar_one())

    def for_conversation(self, conversation_id: int) -> list[LlmUsage]:
        query = select(LlmUsage).where(LlmUsage.conversation_id == conversation_id).order_by(LlmUsage.id)
        with self._db.session() as session:
            return list(session.execute(query).scalars().all())

    def for_message(self, platform: str, platform_message_id: str) -> list[LlmUsage]:
        query = select(LlmUsage).where(
            LlmUsage.platform == platform, LlmUsage.platform_message_id == platform_message_id
        )
        with self._db.session() as session:
            return list(session.execute(query.order_by(LlmUsage.id)).scalars().all())

    def days(self, limit: int = 31) -> list[DayTotal]:
        query = (
            select(
                LlmUsage.day,
                func.count(),
                func.sum(LlmUsage.input_tokens),
                func.sum(LlmUsage.output_tokens),
                func.sum(LlmUsage.cost),
            )
            .group_by(LlmUsage.day)
            .order_by(LlmUsage.day.desc())
            .limit(limit)
        )
        with self._db.session() as session:
            return [
                DayTotal(d, int(n), int(i or 0), int(o or 0), float(c or 0)) for d, n, i, o, c in session.execute(query)
            ]

    def by_day_and_purpose(self, since_day: str) -> list[PurposeTotal]:
        """Totals per (day, purpose) from `since_day` (YYYY-MM-DD) on, newest day first."""
        outcome = LlmUsage.outcome
        query = (
            select(
                LlmUsage.day,
                LlmUsage.purpose,
                func.count(),
                func.sum(case((outcome == "rejected", 1), else_=0)),
                func.sum(case((outcome == "error", 1), else_=0)),
                func.sum(LlmUsage.input_tokens),
                func.sum(LlmUsage.output_tokens),
                func.sum(LlmUsage.cost),
            )
            .where(LlmUsage.day >= since_day)
            .group_by(LlmUsage.day, LlmUsage.purpose)
            .order_by(LlmUsage.day.desc(), LlmUsage.purpose)
        )
        with self._db.session() as session:
            return [
                PurposeTotal(d, p, int(n), int(r or 0), int(e or 0), int(i or 0), int(o or 0), float(c or 0))
                for d, p, n, r, e, i, o, c in session.execute(query)
            ]
