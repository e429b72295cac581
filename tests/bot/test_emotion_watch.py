from __future__ import annotations

from sqlmodel import select

from bot.emotion_watch import EmotionWatch
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
