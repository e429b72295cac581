"""Manager insights: every dashboard figure by name, computed from the report queries in `storage/reports*.py`
(the emotion rules of `bot/emotion` are applied here, where the bot's labels are known). Bot resolution,
repeated questions and emotion recovery read the rollups where they are complete (`bot/insights/rollups.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from bot.emotion.base import NEGATIVE_LABELS
from bot.insights.rollups import rolled_emotion_recovery
from bot.settings import Settings
from storage.db import Database
from storage.reports import Figure, ReportFilter, ReportRange, emotion_mix, negative_heatmap, unanswered, volume
from storage.reports_handoffs import SlaTargets, csat, handoffs, sla
from storage.reports_journeys import effort
from storage.reports_rollups import rolled_repeats, rolled_resolution


@dataclass(frozen=True, slots=True)
class InsightSettings:
    sla: SlaTargets = field(default_factory=SlaTargets)
    negative_labels: frozenset[str] = NEGATIVE_LABELS


Compute = Callable[[Session, ReportRange, ReportFilter, InsightSettings], Figure]

FIGURES: dict[str, Compute] = {
    "volume": lambda s, p, f, _: volume(s, p, f),
    "resolution": lambda s, p, f, _: rolled_resolution(s, p, f),
    "handoffs": lambda s, p, f, _: handoffs(s, p, f),
    "sla": lambda s, p, f, o: sla(s, p, f, o.sla),
    "csat": lambda s, p, f, _: csat(s, p, f),
    "emotion_mix": lambda s, p, f, o: emotion_mix(s, p, f, o.negative_labels),
    "emotion_recovery": lambda s, p, f, _: rolled_emotion_recovery(s, p, f),
    "effort": lambda s, p, f, _: effort(s, p, f, rolled_repeats),
    "negative_heatmap": lambda s, p, f, o: negative_heatmap(s, p, f, o.negative_labels),
    "unanswered": lambda s, p, f, _: unanswered(s, p, f),
}


def insight_settings(settings: Settings) -> InsightSettings:
    return InsightSettings(
        sla=SlaTargets(
            first_response=timedelta(minutes=settings.sla_first_response_minutes),
            resolution=timedelta(minutes=settings.sla_resolution_minutes),
        )
    )


class UnknownFigure(LookupError):
    pass


class Insights:
    def __init__(self, db: Database, settings: InsightSettings | None = None) -> None:
        self.database = db
        self.settings = settings or InsightSettings()

    def figure(self, name: str, period: ReportRange, filters: ReportFilter | None = None) -> Figure:
        compute = FIGURES.get(name)
        if compute is None:
            raise UnknownFigure(f"no figure {name!r}; known: {', '.join(FIGURES)}")
        with self.database.session() as session:
            return compute(session, period, filters or ReportFilter(), self.settings)
