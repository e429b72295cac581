"""The [followups] section of the business file, validated, and the time rules it implies (quiet hours)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.business import BusinessFile, BusinessFileError

_SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True


class CheckinRule(_Rule):
    after_days: float = Field(14, gt=0)
    negative_first_messages: int = Field(3, ge=1)


class ComplaintRule(_Rule):
    after_hours: float = Field(24, ge=0)
    within_hours: float = Field(72, gt=0)


class CsatRule(_Rule):
    after_hours: float = Field(24, gt=0)


class FollowupRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quiet_hours: str = "21:00-09:00"
    timezone: str = ""
    opt_out_phrases: list[str] = Field(default_factory=list)
    opt_in_phrases: list[str] = Field(default_factory=list)
    wechat_window_hours: float = Field(48, gt=0)
    wechat_window_messages: int = Field(5, ge=1)
    wechat_margin_hours: float = Field(1, ge=0)
    fallback_assignee: str = "care-team"
    checkin: CheckinRule = Field(default_factory=CheckinRule)
    complaint_contact: ComplaintRule = Field(default_factory=ComplaintRule)
    csat_reminder: CsatRule = Field(default_factory=CsatRule)

    @field_validator("quiet_hours")
    @classmethod
    def _readable_span(cls, value: str) -> str:
        if value.strip() and not _SPAN.match(value):
            raise ValueError("write quiet hours like '21:00-09:00', or \"\" for none")
        return value.strip()

    @field_validator("opt_out_phrases", "opt_in_phrases")
    @classmethod
    def _normalised(cls, phrases: list[str]) -> list[str]:
        return [normalise_phrase(p) for p in phrases if normalise_phrase(p)]


def normalise_phrase(text: str) -> str:
    return " ".join(text.strip().lower().rstrip("。.!！~～").split())


def load_followup_rules(business: BusinessFile) -> FollowupRules:
    try:
        return FollowupRules.model_validate(business.section("followups"))
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise BusinessFileError(f"[followups] {where}: {problem['msg']}") from error


class QuietHours:
    """A daily span in one time zone during which nothing proactive is sent (it may cross midnight)."""

    def __init__(self, span: str, timezone: str) -> None:
        try:
            self.zone = ZoneInfo(timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise BusinessFileError(f"[followups] timezone: unknown time zone {timezone!r}") from error
        match = _SPAN.match(span) if span else None
        self.start, self.end = (
            (time.fromisoformat(match.group(1).zfill(5)), time.fromisoformat(match.group(2).zfill(5)))
            if match
            else (None, None)
        )

    def contains(self, moment: datetime) -> bool:
        if self.start is None or self.start == self.end:
            return False
        local = moment.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself, or the end of the quiet hours it falls in."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(moment.tzinfo)
