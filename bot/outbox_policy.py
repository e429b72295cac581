"""What the outbox is told by a platform (a `Sender`, its `DeliveryError`s) and how long it keeps trying."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.messages import OutboundMessage


class DeliveryError(Exception):
    """A send that did not go through; `permanent` failures are not retried."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: OutboundMessage) -> str | None:
        """Deliver one message; return the platform's message id if it gives one, raise DeliveryError if not."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    window_hours: float = 24.0  # a message is retried this long after it was queued, then marked failed
    first_delay: float = 1.0
    max_delay: float = 300.0
    max_attempts: int | None = None  # None: only the window limits the retries
    claim_seconds: float = 120.0  # how long one attempt may hold a row before another process may retry it
    concurrency: int = 8  # sends in flight at once per platform (each to a different chat)
    mark_retry_delay: float = 0.2  # first wait before recording a sent message again when the database failed

    def delay(self, attempts: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, min(attempts - 1, 32)))

    def window(self, platform: str) -> timedelta:
        hours = self.window_hours
        if platform == "wechat":  # WeChat accepts customer-service messages for 48 h after the customer wrote
            hours = min(hours, WECHAT_WINDOW_HOURS)
        return timedelta(hours=hours)


WECHAT_WINDOW_HOURS = 47.0  # inside the platform's 48 hours, with room for the last backoff
