"""A mistake the person at the command line can fix: `run.py` prints it as one line and exits with status 2."""

from __future__ import annotations


class UsageError(Exception):
    pass


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
