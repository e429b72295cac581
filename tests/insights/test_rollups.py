"""The rollups behind bot resolution, repeated questions and emotion recovery (SQLite and PostgreSQL): with the
watermark anywhere — before, inside or after the range, cutting a conversation in two — the figures are the
hand-counted ones of tests/insights/fixture.py and identical to the raw queries, with every filter; a refresh
done in steps leaves the same rollup as one rebuild; a forgotten customer leaves no rollup row behind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.insights import Insights
from bot.insights.rollups import refresh_rollups
from storage.customers import CustomerRepository
from storage.models import Customer, InsightConversation, InsightQuestion
from storage.reports import ReportFilter, ReportRange
from storage.reports_rollups import clear
from tests.insights import fixture
from tests.insights.fixture import RANGE

ROLLED = ("resolution", "effort", "emotion_recovery")
FILTERS = (
    ReportFilter(),
    ReportFilter(channel="web"),
    ReportFilter(channel="telegram"),
    ReportFilter(language="zh"),
    ReportFilter(language="en"),
    ReportFilter(tier="vip"),
)
CUTTING_C1 = ReportRange(datetime(2026, 11, 2, 9, 25, tzinfo=UTC), RANGE.end)  # c1 after h1: only m6 is left
# "now" for each refresh; the watermark is 24 h earlier, on the hour
NOWS = (
    datetime(2026, 11, 3, 9, 30, tzinfo=UTC),  # watermark 11-02 09:00: inside c1, before its first message
    datetime(2026, 11, 11, 11, 30, tzinfo=UTC),  # 11-10 11:00: h3's hour, mid-range
    datetime(2026, 12, 20, tzinfo=UTC),  # after everything
)


@pytest.fixture
def insights(database):
    fixture.build(database)
    return Insights(database)


def figures(insights, period=RANGE):
    return {(name, f): insights.figure(name, period, f).as_json() for name in ROLLED for f in FILTERS}


def raw_figures(insights, period=RANGE):
    with insights.database.session() as session:
        clear(session)
    return figures(insights, period)


def assert_hand_counted(insights):
    resolution = insights.figure("resolution", RANGE).summary
    assert resolution["all"] == {"questions": 11, "answered": 6, "resolved": 3, "resolution_rate": 0.2727}
    assert resolution["zh"] == {"questions": 5, "answered": 2, "resolved": 1, "resolution_rate": 0.2}
    assert insights.figure("resolution", RANGE, ReportFilter(channel="web")).summary["all"]["resolution_rate"] == 0.4
    effort = insights.figure("effort", RANGE).summary
    assert (effort["all"]["questions"], effort["all"]["repeated_questions"]) == (11, 2)  # m1 repeats m0, m3 m1
    assert effort["en"]["repeated_rate"] == 0.3333
    recovery = insights.figure("emotion_recovery", RANGE).summary
    assert recovery["all"]["bot_only"]["recovery_median_seconds"] == 1800.0  # c2: anxiety → joy in 30 min
    assert recovery["all"]["after_handoff"]["converted"] == 1  # c1 joyful 20 min after h1; c3 silent
    assert recovery["all"]["after_handoff"]["recovery_median_seconds"] == 1200.0
    assert recovery["zh"]["bot_only"]["conversion_rate"] == 1.0


@pytest.mark.parametrize("now", NOWS, ids=("before", "inside", "after"))
def test_rolled_figures_are_the_hand_counted_ones_and_equal_the_raw_queries(insights, now):
    raw = raw_figures(insights)
    cut = raw_figures(insights, CUTTING_C1)
    run = refresh_rollups(insights.database, now)
    assert run.until is not None and run.questions > 0
    assert_hand_counted(insights)
    assert figures(insights) == raw
    assert figures(insights, CUTTING_C1) == cut


def test_the_cut_range_differs_from_the_whole_one_so_the_comparison_can_fail(insights):
    refresh_rollups(insights.database, NOWS[2])
    whole = insights.figure("emotion_recovery", RANGE).summary["en"]["after_handoff"]
    cut = insights.figure("emotion_recovery", CUTTING_C1).summary["en"]["after_handoff"]
    assert whole["negative_conversations"] == 1  # c1: angry before h1, joyful after it
    assert cut["negative_conversations"] == 0  # h1 is outside the range: c1's joyful m6 alone counts nowhere


def rollup_rows(database):
    with database.session() as session:
        questions = sorted((q.message_id, q.resolved, q.repeated) for q in session.exec(select(InsightQuestion)))
        conversations = sorted(
            (c.conversation_id, c.first_at, c.last_at, repr(c.outcomes))
            for c in session.exec(select(InsightConversation))
        )
    return questions, conversations


def test_a_refresh_in_steps_leaves_the_same_rollup_as_one_rebuild(insights):
    database = insights.database
    for now in NOWS:
        refresh_rollups(database, now)
    stepped = rollup_rows(database)
    assert refresh_rollups(database, NOWS[2]).until is None  # nothing new: nothing done
    refresh_rollups(database, NOWS[2], rebuild=True)
    assert rollup_rows(database) == stepped
    assert len(stepped[0]) == 13  # every question of A, B and C (D was forgotten): 11 in range + m0 + m21


def test_a_forgotten_customer_leaves_no_rollup_rows(insights):
    database = insights.database
    refresh_rollups(database, NOWS[2])
    before = rollup_rows(database)
    with database.session() as session:
        alice = session.exec(select(Customer).where(Customer.display_name == "Alice")).one().id
    CustomerRepository(database).forget(alice, actor="test")
    after = rollup_rows(database)
    assert len(after[0]) == len(before[0]) - 5  # her questions m0, m1, m3, m5, m21
    assert len(after[1]) == len(before[1]) - 3  # her conversations c0, c1, c6
