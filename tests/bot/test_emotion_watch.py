from __future__ import annotations

import pytest
from sqlmodel import select

from bot.business import BusinessFileError, load_business_file
from bot.emotion_watch import EmotionWatch, load_emotion_rules
from storage.conversations import ConversationLog, LoggedMessage
from storage.emotions import EmotionStore
from storage.models import Conversation, ConversationState


def say(log: ConversationLog, label: str, user: str = "u1"):
    inbound = LoggedMessage("in", f"a {label} message", emotion_label=label, emotion_intensity=0.8)
    return log.record_exchange("telegram", user, user, None, inbound, [LoggedMessage("out", "ok")])


def close(database, conversation_id: int) -> None:
    with database.session() as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.state = ConversationState.CLOSED
        session.add(conversation)


def test_three_negative_messages_in_a_row_flag_the_conversation_at_risk_once(database):
    log, store = ConversationLog(database), EmotionStore(database)
    watch = EmotionWatch(store)
    outcomes = []
    for label in ("anger", "neutral", "anger", "sadness", "anxiety", "anger"):
        exchange = say(log, label)
        outcomes.append(watch.after_exchange(exchange.customer_id, exchange.conversation_id, label).became_at_risk)

    assert outcomes == [False, False, False, False, True, False]
    assert [c.id for c in store.at_risk_conversations()] == [exchange.conversation_id]


def test_two_negative_conversations_within_30_days_raise_one_alert(database):
    log, store = ConversationLog(database), EmotionStore(database)
    watch = EmotionWatch(store)
    first = say(log, "anger")
    assert watch.after_exchange(first.customer_id, first.conversation_id, "anger").alert is None
    close(database, first.conversation_id)

    second = say(log, "sadness")
    outcome = watch.after_exchange(second.customer_id, second.conversation_id, "sadness")
    assert outcome.alert is not None and "2 negative conversations" in outcome.alert.reason

    again = say(log, "anger")
    assert watch.after_exchange(again.customer_id, again.conversation_id, "anger").alert is None
    assert len(store.alerts(first.customer_id)) == 1


def test_positive_and_neutral_messages_never_flag_anything(database):
    log, store = ConversationLog(database), EmotionStore(database)
    watch = EmotionWatch(store)
    for label in ("joy", "neutral", "joy"):
        exchange = say(log, label)
        assert watch.after_exchange(exchange.customer_id, exchange.conversation_id, label).alert is None
    with database.session() as session:
        assert not any(c.at_risk for c in session.exec(select(Conversation)).all())


def business(tmp_path, text: str):
    path = tmp_path / "business.toml"
    path.write_text(text, encoding="utf-8")
    return load_business_file(path)


def test_the_default_thresholds_are_the_business_files_and_are_what_the_rules_used_before():
    rules = load_emotion_rules(load_business_file())
    assert (rules.at_risk_streak, rules.alert_negative_conversations, rules.alert_window_days) == (3, 2, 30.0)


def test_a_business_sets_its_own_thresholds_and_the_watch_follows_them(database, tmp_path):
    rules = load_emotion_rules(
        business(tmp_path, "[emotion_alerts]\nat_risk_streak = 2\nalert_negative_conversations = 3\n")
    )
    assert rules.alert_window_days == 30.0  # a key left out keeps its default
    log, store = ConversationLog(database), EmotionStore(database)
    watch = EmotionWatch(store, rules)
    flagged = []
    for label in ("anger", "sadness"):
        first = say(log, label)
        flagged.append(watch.after_exchange(first.customer_id, first.conversation_id, label).became_at_risk)
    assert flagged == [False, True]  # two in a row are enough now
    close(database, first.conversation_id)
    second = say(log, "anger")
    assert watch.after_exchange(second.customer_id, second.conversation_id, "anger").alert is None  # 2 of 3
    close(database, second.conversation_id)
    third = say(log, "anger")
    outcome = watch.after_exchange(third.customer_id, third.conversation_id, "anger")
    assert outcome.alert is not None and outcome.alert.reason == "3 negative conversations within 30 days"


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("at_risk_streak = 0", "[emotion_alerts] at_risk_streak: Input should be greater than or equal to 1"),
        ('at_risk_streak = "3"', "[emotion_alerts] at_risk_streak: Input should be a valid integer"),
        ("alert_negative_conversations = true", "[emotion_alerts] alert_negative_conversations: Input should be"),
        ("alert_negative_conversations = 1.5", "[emotion_alerts] alert_negative_conversations: Input should be"),
        ("alert_window_days = -1", "[emotion_alerts] alert_window_days: Input should be greater than 0"),
        ("alert_window_dayz = 7", "[emotion_alerts] alert_window_dayz: Extra inputs are not permitted"),
    ],
)
def test_a_bad_threshold_is_one_line_naming_the_key(tmp_path, line, named):
    with pytest.raises(BusinessFileError) as error:
        load_emotion_rules(business(tmp_path, f"[emotion_alerts]\n{line}\n"))
    assert str(error.value).startswith(named) and "\n" not in str(error.value)


def test_a_bad_threshold_stops_the_server_start_with_one_line_and_status_2(tmp_path, monkeypatch, capsys):
    import run

    path = tmp_path / "business.toml"
    path.write_text("[emotion_alerts]\nalert_window_days = 0\n", encoding="utf-8")
    monkeypatch.setenv("WARMDESK_BUSINESS_FILE", str(path))
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert run.main(["serve", "--port", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "[emotion_alerts] alert_window_days: Input should be greater than 0" in error
