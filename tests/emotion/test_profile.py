from __future__ import annotations

from datetime import datetime, timedelta

from bot.emotion.profile import EmotionRecord, ProfileRules, build_profile, profiles_by_customer, sparkline

T0 = datetime(2025, 3, 1, 9, 0)


def record(
    minutes: float,
    conversation: str,
    label: str,
    intensity: float = 0.6,
    faq: str | None = None,
    text: str = "",
    customer: str = "c1",
) -> EmotionRecord:
    return EmotionRecord(T0 + timedelta(minutes=minutes), conversation, label, intensity, faq, text, customer)


def test_three_consecutive_negative_messages_put_a_conversation_at_risk():
    records = [
        record(0, "a", "anger"),
        record(1, "a", "sadness"),
        record(2, "a", "anger"),
        record(0, "b", "anger"),
        record(1, "b", "neutral"),
        record(2, "b", "anger"),
    ]
    profile = build_profile(records)
    assert profile.at_risk_conversations == ("a",)


def test_two_negative_conversations_in_30_days_raise_an_alert():
    close = [record(0, "a", "anger"), record(60 * 24 * 10, "b", "sadness")]
    far = [record(0, "a", "anger"), record(60 * 24 * 45, "b", "sadness")]
    assert build_profile(close).alert
    assert "2 negative conversations" in (build_profile(close).alert_reason or "")
    assert not build_profile(far).alert
    assert build_profile(far, ProfileRules(alert_window_days=60)).alert


def test_conversion_rate_and_recovery_time():
    records = [
        record(0, "a", "anger"),
        record(5, "a", "neutral"),
        record(12, "a", "joy"),  # converted, 12 min
        record(100, "b", "anxiety"),
        record(104, "b", "joy"),  # converted, 4 min
        record(200, "c", "anger"),
        record(210, "c", "anger"),  # not converted
        record(300, "d", "joy"),  # never negative
    ]
    profile = build_profile(records)
    assert profile.negative_conversations == 3
    assert profile.conversion_rate == round(2 / 3, 3)
    assert profile.recovery_seconds_median == 8 * 60
    recoveries = {c.conversation_id: c.recovery_seconds for c in profile.conversations}
    assert recoveries == {"a": 720.0, "b": 240.0, "c": None, "d": None}


def test_counts_dominant_topics_and_trend():
    records = [record(i, "a", "anger", faq="refund", text="退款一直没到账") for i in range(3)]
    records += [record(10 + i, "b", "joy", 0.8, faq="shipping", text="thanks, parcel arrived") for i in range(4)]
    profile = build_profile(records)
    assert profile.counts == {"anger": 3, "joy": 4}
    assert profile.dominant == ("joy", "anger")
    assert profile.negative_faq_ids == (("refund", 3),)
    assert "退款" in dict(profile.negative_keywords)
    assert profile.message_trend == "improving"
    assert profile.conversation_trend == "improving"


def test_sparkline_goes_from_low_to_high():
    assert sparkline([-1.0, 0.0, 1.0]) == "▁▅█"
    profile = build_profile([record(0, "a", "anger", 1.0), record(1, "a", "neutral"), record(2, "a", "joy", 1.0)])
    assert profile.sparkline == "▁▅█"


def test_profiles_per_customer_and_overall():
    records = [record(0, "a", "anger", customer="alice"), record(1, "b", "joy", customer="bob")]
    per_customer = profiles_by_customer(records)
    assert set(per_customer) == {"alice", "bob"}
    assert per_customer["alice"].counts == {"anger": 1}
    assert build_profile(records).messages == 2


def test_epoch_timestamps_and_empty_history():
    assert build_profile([EmotionRecord(1_700_000_000.0, "a", "joy", 0.5)]).messages == 1
    empty = build_profile([])
    assert empty.messages == 0 and empty.sparkline == "" and empty.conversion_rate is None and not empty.alert
