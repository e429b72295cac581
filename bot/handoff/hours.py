"""Business hours from a setting like "Mon-Fri 09:00-18:00; Sat 10:00-14:00" in one time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OpeningSpan:
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class BusinessHours:
    spans: tuple[OpeningSpan, ...]
    timezone: str = "UTC"
    text: str = ""  # the setting as written, shown to customers

    @property
    def always_open(self) -> bool:
        return not self.spans

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone))
        return any(local.weekday() in span.days and span.opens <= local.time() < span.closes for span in self.spans)


def parse_business_hours(text: str, timezone: str = "UTC") -> BusinessHours:
    """An empty setting means always open. Raises ValueError naming the part it cannot read."""
    ZoneInfo(timezone)  # fails early on an unknown zone
    spans = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _SPAN.match(part)
        if not match or match.group(1).lower() not in DAYS or (match.group(2) or "mon").lower() not in DAYS:
            raise ValueError(f"cannot read business hours {part!r}; write e.g. 'Mon-Fri 09:00-18:00'")
        first = DAYS.index(match.group(1).lower())
        last = DAYS.index(match.group(2).lower()) if match.group(2) else first
        days = frozenset(range(first, last + 1)) if first <= last else frozenset([*range(first, 7), *range(last + 1)])
        opens, closes = (time.fromisoformat(match.group(i).zfill(5)) for i in (3, 4))
        spans.append(OpeningSpan(days, opens, closes))
    return BusinessHours(tuple(spans), timezone, text.strip())
