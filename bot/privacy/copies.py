"""Copies of a customer's conversation that Warmdesk itself posted on a staff desk (Slack handoff cards and the
bot's messages in their threads, and relationship care's notices about them): removed through the desk's API
when the customer's data is deleted, and what could not be removed is counted, so the receipt can say so."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("warmdesk.privacy")
# Desks that keep copies of their own, outside the database: what they hold stays when no remover is registered
# (Slack turned off since). The agent console only shows the database, so nothing of it is left.
OUTSIDE_DESKS = frozenset({"slack"})


@dataclass(frozen=True, slots=True)
class CopiesRemoved:
    removed: int = 0
    kept: int = 0  # still on the desk: messages people typed there, or what the desk refused or did not answer

    def __add__(self, other: CopiesRemoved) -> CopiesRemoved:
        return CopiesRemoved(self.removed + other.removed, self.kept + other.kept)


class CopyRemover(Protocol):
    """A desk adapter's side: delete the messages it posted for these threads (channel, thread id). Blocking;
    called from the worker thread that handles the customer's "yes", before their rows are deleted."""

    def remove(self, threads: list[tuple[str, str]]) -> CopiesRemoved: ...

    def remove_messages(self, messages: list[tuple[str, str]]) -> CopiesRemoved:
        """Single messages it posted (channel, message id): staff notices about the customer."""
        ...


def remove_copies(
    removers: dict[str, CopyRemover],
    threads: dict[str, list[tuple[str, str]]],
    messages: dict[str, list[tuple[str, str]]] | None = None,
) -> CopiesRemoved:
    total = CopiesRemoved()
    for found_by_desk, how in ((threads, "remove"), (messages or {}, "remove_messages")):
        for desk, found in found_by_desk.items():
            remover = removers.get(desk)
            if remover is None or not found:
                total += CopiesRemoved(kept=len(found) if desk in OUTSIDE_DESKS else 0)
                continue
            try:
                total += getattr(remover, how)(found)
            except Exception:  # the desk is down: the deletion goes ahead, the receipt says what is left there
                log.exception("could not remove the %s copies of a deleted customer's conversations", desk)
                total += CopiesRemoved(kept=len(found))
    return total
