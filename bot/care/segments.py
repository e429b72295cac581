"""RFM scores, tiers and churn warnings (流失预警), computed for every customer with orders by a nightly job.

Scores are quintiles among customers with orders (5 = most recent / most orders / most spent); the thresholds
come from the business file's [segments] section (documented there and in the README).
"""

from __future__ import annotations

import asyncio
import logging
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.business import BusinessFile, BusinessFileError
from storage.jobs import ClaimedJob, JobRepository
from storage.models import utcnow
from storage.segments import SegmentRepository
from storage.segments_sql import TierRules

log = logging.getLogger("warmdesk.care")

VIP, HIGH_POTENTIAL, REGULAR = "vip", "high_potential", "regular"
COMPUTED_TIERS = frozenset({VIP, HIGH_POTENTIAL, REGULAR, "standard"})  # tiers the nightly job may replace
NIGHTLY = "segments.nightly"


class SegmentRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    nightly_at: str = "03:00"
    churn_after_days: float = Field(90, gt=0)
    vip_min_fm: int = Field(9, ge=2, le=10)
    vip_min_recency: int = Field(2, ge=1, le=5)
    high_potential_min_recency: int = Field(4, ge=1, le=5)
    high_potential_min_fm: int = Field(6, ge=2, le=10)

    @field_validator("nightly_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        time.fromisoformat(value.zfill(5))
        return value


def load_segment_rules(business: BusinessFile) -> SegmentRules:
    try:
        return SegmentRules.model_validate(business.section("segments"))
    except ValidationError as error:
        problem = error.errors()[0]
        raise BusinessFileError(f"[segments] {'.'.join(map(str, problem['loc']))}: {problem['msg']}") from error


def quintiles(values: np.ndarray) -> np.ndarray:
    """1-5 by rank among `values` (ties share the higher score)."""
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    ordered = np.sort(values)
    share = np.searchsorted(ordered, values, side="right") / len(values)
    return np.clip(np.ceil(share * 5), 1, 5).astype(int)


def tier_for(r: int, f: int, m: int, rules: SegmentRules) -> str:
    if f + m >= rules.vip_min_fm and r >= rules.vip_min_recency:
        return VIP
    if r >= rules.high_potential_min_recency and f + m >= rules.high_potential_min_fm:
        return HIGH_POTENTIAL
    return REGULAR


def segment_for(r: int, f: int, m: int) -> str:
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if f >= 4:
        return "loyal" if r >= 3 else "at_risk"
    if r >= 4 and f <= 2:
        return "new"
    if r <= 2 and f <= 2:
        return "hibernating"
    return "needs_attention"


@dataclass(frozen=True, slots=True)
class SegmentRun:
    customers: int
    tiers: dict[str, int]
    churn_risk: int
    seconds: float


class Segments:
    def __init__(
        self,
        repository: SegmentRepository,
        rules: SegmentRules,
        jobs: JobRepository | None = None,
        zone=None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = repository
        self.rules = rules
        self.jobs = jobs
        self.zone = zone
        self.clock = clock
        self.on_churn_risk: Callable[[list[int]], None] | None = None  # newly at risk customers (alerts hook in)

    def compute(self) -> SegmentRun:
        """Score every customer with orders, in the database (set-based SQL: `storage.segments_sql`)."""
        started = wallclock.perf_counter()
        now = self.clock()
        rules = TierRules(
            self.rules.vip_min_fm,
            self.rules.vip_min_recency,
            self.rules.high_potential_min_recency,
            self.rules.high_potential_min_fm,
        )
        cutoff = now - timedelta(days=self.rules.churn_after_days)
        tiers, churned, at_risk = self.repository.recompute(rules, now, cutoff, COMPUTED_TIERS)
        if churned and self.on_churn_risk is not None:
            self.on_churn_risk(churned)
        return SegmentRun(sum(tiers.values()), tiers, at_risk, wallclock.perf_counter() - started)

    # -- the nightly job -------------------------------------------------------------------------------------

    def next_night(self, after: datetime) -> datetime:
        at = time.fromisoformat(self.rules.nightly_at.zfill(5))
        local = after.astimezone(self.zone)
        moment = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        if moment <= local:
            moment += timedelta(days=1)
        return moment.astimezone(after.tzinfo)

    def ensure_scheduled(self) -> None:
        """One pending nightly run, keyed by its date, so several workers starting schedule it once."""
        if self.jobs is None or not self.rules.enabled:
            return
        due = self.next_night(self.clock())
        self.jobs.schedule(NIGHTLY, due, {}, dedup_key=f"{NIGHTLY}:{due:%Y-%m-%d}", max_attempts=3)

    async def nightly(self, job: ClaimedJob) -> str:
        run = await asyncio.to_thread(self.compute)
        self.ensure_scheduled()
        log.info("segments: %d customers in %.1f s; tiers %s", run.customers, run.seconds, run.tiers)
        return f"{run.customers} customers, {run.churn_risk} at risk of churning"
