"""The passive-answer arbiter: each message's work runs once and its result is claimed exactly once."""

from __future__ import annotations

import asyncio

import pytest

from adapters.passive_window import PassiveWindow


class Work:
    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.runs = 0
        self.later: list[str] = []

    async def __call__(self) -> str:
        self.runs += 1
        await self.gate.wait()
        return "answer"

    async def deliver_later(self, result: str) -> None:
        self.later.append(result)


async def ignore(_result: str) -> None:
    return None


async def test_a_quick_result_is_answered_passively_and_not_delivered_later():
    window, work = PassiveWindow[str](budget_seconds=1.0), Work()
    work.gate.set()
    assert await window.answer("m1", work, work.deliver_later) == "answer"
    assert work.later == [] and work.runs == 1


async def test_a_slow_result_goes_out_later_exactly_once_whatever_the_retries():
    window, work = PassiveWindow[str](budget_seconds=0.05), Work()
    assert await window.answer("m1", work, work.deliver_later) is None
    assert await window.answer("m1", work, work.deliver_later) is None  # a retry while the work still runs
    work.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert work.later == ["answer"]
    assert await window.answer("m1", work, work.deliver_later) is None  # a retry after it went out
    assert work.runs == 1 and work.later == ["answer"]


async def test_a_retry_waiting_when_the_work_finishes_answers_passively_instead():
    window, work = PassiveWindow[str](budget_seconds=5.0), Work()
    first = asyncio.create_task(window.answer("m1", work, work.deliver_later))
    retry = asyncio.create_task(window.answer("m1", work, work.deliver_later))
    await asyncio.sleep(0.01)
    work.gate.set()
    assert sorted([await first, await retry], key=str) == [None, "answer"]  # exactly one passive answer
    assert work.later == [] and work.runs == 1


async def test_failed_work_is_reported_and_run_again_on_the_next_retry():
    window = PassiveWindow[str](budget_seconds=1.0)
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return "answer"

    with pytest.raises(RuntimeError):
        await window.answer("m1", flaky, ignore)
    assert await window.answer("m1", flaky, ignore) == "answer"
    assert len(calls) == 2


async def test_finished_messages_are_forgotten_after_a_while():
    window, work = PassiveWindow[str](budget_seconds=1.0, remember_seconds=0.0), Work()
    work.gate.set()
    await window.answer("m1", work, work.deliver_later)
    await asyncio.sleep(0.01)
    await window.answer("m2", work, work.deliver_later)
    assert "m1" not in window._jobs and work.runs == 2
