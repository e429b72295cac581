"""A circuit breaker: after `failures` calls in a row fail, calls are skipped for `cool_down` seconds, then one is
let through to test the endpoint again (half-open)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, failures: int, cool_down: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = failures
        self._cool_down = cool_down
        self._clock = clock
        self._failed = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None and self._clock() - self._opened_at < self._cool_down

    def allow(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            if self._clock() - self._opened_at < self._cool_down or self._trial_running:
                return False
            self._trial_running = True  # half-open: exactly one call tests the endpoint
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._failed, self._opened_at, self._trial_running = 0, None, False

    def failed(self) -> None:
        with self._lock:
            self._failed += 1
            if self._trial_running or self._failed >= self._limit:
                self._opened_at = self._clock()
            self._trial_running = False
