"""Customers first: bulk knowledge work (an import's embeddings and index writes) gives way to chat messages.

A message being answered holds `foreground()`; bulk work calls `background_turn()` before each small step and
waits there until the messages in flight have been answered (at most `max_wait`, so a steady stream of chat slows
an import down but never stops it). The steps are small on purpose: a Chroma write holds the GIL for its whole duration
(50-350 ms measured for 64 records), so a message that arrives during one waits for it, and one only.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator

BULK_MAX_WAIT = 0.5  # s: the longest a bulk step waits for a gap in the chat traffic
QUIET_SECONDS = 1.0  # s without a message: bulk work may use every core
# Added to a background job thread's nice value: chat threads get ~2x its CPU share when both want a core. +10
# starved an import at load 15 while one customer chatted non-stop (3 questions/s; it must finish).
BULK_NICE = 3


class PriorityGate:
    def __init__(self, max_wait: float = BULK_MAX_WAIT, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self._clock = clock
        self._active = 0
        self._gaps = 0  # times the count of messages in flight fell to 0
        self._last_active = float("-inf")
        self._changed = threading.Condition()
        self.longest_wait = 0.0  # s, the longest a bulk step has waited (for benchmarks)

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        with self._changed:
            self._active += 1
        try:
            yield
        finally:
            with self._changed:
                self._active -= 1
                self._last_active = self._clock()
                if not self._active:
                    self._gaps += 1
                    self._changed.notify_all()

    @property
    def in_flight(self) -> int:
        """Messages being answered now."""
        return self._active

    def busy(self) -> bool:
        """A message is in flight, or was a moment ago (the next one of a conversation is likely on its way)."""
        return bool(self._active) or self._clock() - self._last_active < QUIET_SECONDS

    def background_turn(self) -> float:
        """Let the messages in flight finish first (waiting at most `max_wait`); returns the seconds waited.

        The turn comes when they have all finished at least once since the call, even if the next message is
        already being answered by the time this thread runs again: otherwise one customer after another, each
        message starting a few ms after the last, would hold bulk work back for `max_wait` at every step."""
        started = self._clock()
        with self._changed:
            gaps = self._gaps
            while self._active and self._gaps == gaps and (left := started + self.max_wait - self._clock()) > 0:
                self._changed.wait(left)
        waited = self._clock() - started
        self.longest_wait = max(self.longest_wait, waited)
        return waited


_shared = PriorityGate()


def shared_gate() -> PriorityGate:
    """The gate of this process: the embedder, the knowledge base and the engine all use this one."""
    return _shared


def lower_thread_priority(by: int = BULK_NICE) -> None:
    """Raise the calling thread's nice value (Linux: per thread), for threads that only do bulk work. It cannot be
    lowered again without privileges, so only call it on a thread that ends with its job."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + by))
    except OSError:  # not allowed in this sandbox: the gate alone still puts chat first
        pass
