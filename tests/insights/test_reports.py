"""Every dashboard figure against the hand-worked history of tests/insights/fixture.py (SQLite and PostgreSQL).

The expected numbers below are counted by hand from the fixture's table, never by running the same code."""

from __future__ import annotations

import pytest

from bot.insights import Insights
from storage.db import Database
from storage.reports import ReportFilter
from tests.conftest import empty_postgres
from tests.insights import fixture
from tests.insights.fixture import RANGE


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def insights(request, tmp_path_factory):
    """The fixture history, built once per database for this module's read-only tests."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('insights') / 'crm.db'}")
    else:
        db = Database(request.getfixturevalue("postgres_database_url"))
    db.migrate()
    fixture.build(db)
    yield Insights(db)
    if request.param == "postgres":
        empty_postgres(db)
    db.dispose()


def figure(insights, name, **filters):
    return insights.figure(name, RANGE, ReportFilter(**filters))


def test_volume_counts_conversations_started_and_messages_in_the_range_only(insights):
    # in range: c1..c5; messages in: c1 4, c2 3, c3 2, c4 2, c5 1; out: 2, 3, 1, 2, 1 (c0, c6, forgotten c7 out)
    summary = figure(insights, "volume").summary
    assert summary["all"] == {"conversations": 5, "messages": 21, "messages_in": 12, "messages_out": 9}
    assert summary["en"] == {"conversations": 3, "messages": 12, "messages_in": 7, "messages_out": 5}
    assert summary["zh"] == {"conversations": 2, "messages": 9, "messages_in": 5, "messages_out": 4}
    rows = figure(insights, "volume").rows
    assert {"day": "2026-11-02", "language": "en", "conversations": 1, "messages_in": 4, "messages_out": 2} in rows


def test_volume_filters_by_channel_tier_and_language(insights):
    assert figure(insights, "volume", channel="telegram").summary["all"]["messages_in"] == 4  # c2 3 + c5 1
    assert figure(insights, "volume", channel="telegram").summary["all"]["conversations"] == 2
    vip = figure(insights, "volume", tier="vip").summary["all"]
    assert (vip["conversations"], vip["messages_in"], vip["messages_out"]) == (2, 5, 4)  # B's c2 and c3
    zh = figure(insights, "volume", language="zh").summary
    assert zh["all"]["messages"] == 9 and zh["en"]["messages"] == 0


def test_bot_resolution_needs_an_answer_no_handoff_and_no_return_on_the_topic_within_a_day(insights):
    # answered: m1 (A asks orders again 10 min later), m3 (h1 10 min later), m7 resolved, m13 (h2 a minute
    # later), m16 resolved (C's next question has no topic), m18 resolved
    summary = figure(insights, "resolution").summary
    assert summary["all"] == {"questions": 11, "answered": 6, "resolved": 3, "resolution_rate": 0.2727}
    assert summary["en"] == {"questions": 6, "answered": 4, "resolved": 2, "resolution_rate": 0.3333}
    assert summary["zh"] == {"questions": 5, "answered": 2, "resolved": 1, "resolution_rate": 0.2}


def test_bot_resolution_on_one_channel_counts_only_that_channels_questions(insights):
    # web questions: m1, m3, m5 (c1), m16, m18 (c4); resolved m16, m18
    assert figure(insights, "resolution", channel="web").summary["all"]["resolution_rate"] == 0.4


def test_unanswered_rate_is_no_answer_over_questions(insights):
    summary = figure(insights, "unanswered").summary
    assert summary["all"] == {"questions": 11, "unanswered": 2, "clarified": 1, "unanswered_rate": 0.1818}
    assert summary["en"]["unanswered_rate"] == 0.1667  # m19 of 6
    assert summary["zh"]["unanswered_rate"] == 0.2  # m9 of 5


def test_handoff_rate_and_reasons(insights):
    summary = figure(insights, "handoffs").summary
    assert summary["all"] == {
        "conversations": 5,
        "handed_off": 2,
        "handoff_rate": 0.4,
        "handoffs": 3,
        "reasons": {"keyword": 2, "anger": 1},
    }
    assert summary["en"]["handoff_rate"] == 0.3333 and summary["en"]["reasons"] == {"anger": 1}
    assert summary["zh"]["handoff_rate"] == 0.5 and summary["zh"]["reasons"] == {"keyword": 2}


def test_agent_response_and_resolution_times_against_the_sla(insights):
    result = figure(insights, "sla")
    everyone = result.summary["all"]
    assert everyone["handoffs"] == 3
    assert everyone["first_response_median_seconds"] == 750.0  # 300 (h1) and 1200 (h2); h3 never claimed
    assert everyone["first_response_p90_seconds"] == 1200.0
    assert everyone["first_response_within_target"] == 0.3333  # only h1 within 10 min, of 3
    assert everyone["resolution_median_seconds"] == 4500.0  # 1800 and 7200
    assert everyone["resolution_within_target"] == 0.3333
    assert result.summary["zh"]["first_response_within_target"] == 0.0
    assert result.summary["en"]["resolution_within_target"] == 1.0
    assert [(r["agent"], r["handoffs"], r["first_response_median_seconds"]) for r in result.rows] == [
        ("ann", 1, 300.0),
        ("bob", 1, 1200.0),
    ]


def test_csat_distribution_and_weekly_trend_without_the_forgotten_customers_rating(insights):
    result = figure(insights, "csat")
    assert result.summary["all"] == {
        "ratings": 2,
        "average": 3.5,
        "csat": 0.5,
        "distribution": {1: 0, 2: 1, 3: 0, 4: 0, 5: 1},  # Dora's 1 went with her
    }
    assert result.rows == [
        {"week": "2026-W45", "language": "en", "ratings": 1, "average": 5.0, "csat": 1.0},
        {"week": "2026-W46", "language": "zh", "ratings": 1, "average": 2.0, "csat": 0.0},
    ]


def test_emotion_mix_per_label_and_language(insights):
    result = figure(insights, "emotion_mix")
    assert result.summary["all"]["counts"] == {"anger": 4, "anxiety": 1, "joy": 3, "neutral": 2, "sadness": 2}
    assert result.summary["all"]["negative_share"] == 0.5833  # 7 of 12
    assert result.summary["en"]["negative_share"] == 0.4286  # m3, m5, m19 of 7
    assert result.summary["zh"]["negative_share"] == 0.8  # 4 of 5
    assert {"day": "2026-11-02", "language": "en", "emotion": "anger", "messages": 2} in result.rows


def test_emotion_conversion_and_recovery_before_and_after_a_handoff(insights):
    summary = figure(insights, "emotion_recovery").summary
    # bot only: c2 (anxiety → joy after 30 min) and c5 (sadness, stays); before handoff: c1 and c3 end angry;
    # after handoff: c1 turns joyful 20 min after h1, c3 says nothing more
    assert summary["all"]["bot_only"] == {
        "negative_conversations": 2,
        "converted": 1,
        "conversion_rate": 0.5,
        "recovered": 1,
        "recovery_median_seconds": 1800.0,
    }
    assert summary["all"]["before_handoff"]["conversion_rate"] == 0.0
    assert summary["all"]["after_handoff"] == {
        "negative_conversations": 2,
        "converted": 1,
        "conversion_rate": 0.5,
        "recovered": 1,
        "recovery_median_seconds": 1200.0,
    }
    assert summary["en"]["after_handoff"]["conversion_rate"] == 1.0
    assert summary["zh"]["after_handoff"]["conversion_rate"] == 0.0
    assert summary["zh"]["bot_only"]["conversion_rate"] == 1.0


def test_effort_channels_repeats_and_handoffs_per_issue(insights):
    summary = figure(insights, "effort").summary
    # A wrote on web only, B on telegram + wechat, C on web + telegram; m1 repeats m0 (9.5 h before), m3 m1
    assert summary["all"] == {
        "customers": 3,
        "channels_per_customer": 1.667,
        "multi_channel_share": 0.6667,
        "questions": 11,
        "repeated_questions": 2,
        "repeated_rate": 0.1818,
        "handoffs": 3,
        "handoffs_per_issue": 1.5,
    }
    assert summary["zh"]["handoffs_per_issue"] == 2.0
    assert summary["en"]["repeated_rate"] == 0.3333


def test_negative_emotion_heatmap_by_topic_and_week(insights):
    result = figure(insights, "negative_heatmap")
    topics = result.summary["all"]["topics"]
    assert list(topics) == ["(no topic)", "hours", "orders", "refunds"]  # most negative first, then by name
    assert topics["(no topic)"] == {"messages": 6, "negative": 4, "negative_share": 0.6667}
    assert topics["orders"] == {"messages": 3, "negative": 1, "negative_share": 0.3333}
    assert {"topic": "orders", "week": "2026-W45", "language": "en", "messages": 2, "negative": 1} in result.rows
    assert {"topic": "hours", "week": "2026-W46", "language": "zh", "messages": 1, "negative": 1} in result.rows


def test_an_unknown_figure_is_refused_by_name(insights):
    with pytest.raises(LookupError, match="no figure 'nope'"):
        figure(insights, "nope")


def test_each_figure_split_by_language_is_the_hand_counted_one(insights):
    """The zh (B) and en (A, C) halves of the figures the tests above check only as a whole."""
    heatmap = figure(insights, "negative_heatmap").summary
    # zh: m7 refund anxiety, m9 sadness, m11 joy, m13 hours anger, m15 anger; en: m1, m16 orders neutral,
    # m3 orders anger, m5 anger, m6 joy, m18 hours joy, m19 sadness
    assert heatmap["zh"]["topics"] == {
        "(no topic)": {"messages": 3, "negative": 2, "negative_share": 0.6667},
        "hours": {"messages": 1, "negative": 1, "negative_share": 1.0},
        "refunds": {"messages": 1, "negative": 1, "negative_share": 1.0},
    }
    assert heatmap["en"]["topics"]["orders"] == {"messages": 3, "negative": 1, "negative_share": 0.3333}
    assert heatmap["en"]["topics"]["hours"] == {"messages": 1, "negative": 0, "negative_share": 0.0}
    csat = figure(insights, "csat").summary
    assert (csat["zh"]["ratings"], csat["zh"]["average"], csat["zh"]["csat"]) == (1, 2.0, 0.0)  # h2
    assert (csat["en"]["ratings"], csat["en"]["average"], csat["en"]["csat"]) == (1, 5.0, 1.0)  # h1
    sla = figure(insights, "sla").summary
    assert (sla["en"]["handoffs"], sla["en"]["first_response_median_seconds"]) == (1, 300.0)  # h1
    assert (sla["zh"]["handoffs"], sla["zh"]["first_response_median_seconds"]) == (2, 1200.0)  # h2; h3 unclaimed
    assert sla["zh"]["resolution_median_seconds"] == 7200.0 and sla["zh"]["resolution_within_target"] == 0.0
    recovery = figure(insights, "emotion_recovery").summary
    # before the handoff c1 (en) and c3 (zh) both end angry: negative, not converted, never recovered
    for language in ("en", "zh"):
        assert recovery[language]["before_handoff"] == {
            "negative_conversations": 1,
            "converted": 0,
            "conversion_rate": 0.0,
            "recovered": 0,
            "recovery_median_seconds": None,
        }
    effort = figure(insights, "effort").summary
    assert effort["zh"] == {
        "customers": 1,
        "channels_per_customer": 2.0,  # B on telegram and wechat
        "multi_channel_share": 1.0,
        "questions": 5,
        "repeated_questions": 0,  # B's topics: refund (m7, 11-03) and hours (m13, 11-10): a week apart
        "repeated_rate": 0.0,
        "handoffs": 2,
        "handoffs_per_issue": 2.0,
    }
    assert (effort["en"]["customers"], effort["en"]["channels_per_customer"]) == (2, 1.5)  # A web; C web + telegram
    assert effort["en"]["handoffs_per_issue"] == 1.0  # h1 in c1
    mix = figure(insights, "emotion_mix").summary
    assert mix["zh"]["counts"] == {"anger": 2, "anxiety": 1, "joy": 1, "sadness": 1}
