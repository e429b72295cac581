from sqlmodel import SQLModel, select

from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import EXPORTED, FORGOTTEN, CustomerRepository
from storage.emotions import EmotionStore
from storage.identity_links import merge_customers
from storage.models import AuditLog, Conversation, ConversationState, Customer, Message, OutboxMessage, utcnow


def exchange(
    log: ConversationLog,
    user: str = "u1",
    message_id: str | None = "m1",
    text: str = "where is my order",
    deliveries: list[OutboxMessage] = (),
):
    return log.record_exchange(
        "telegram",
        user,
        chat_id=user,
        display_name="Li Lei",
        inbound=LoggedMessage(
            "in",
            text,
            language="en",
            platform_message_id=message_id,
            emotion_label="neutral",
            emotion_intensity=0.1,
            emotion_signals=["lexicon:order"],
            faq_id="track_order",
            score=0.9,
            decision="answer",
        ),
        replies=[LoggedMessage("out", "You can track it in My Orders.", language="en", decision="answer")],
        deliveries=deliveries,
    )


def test_first_message_creates_customer_identity_conversation_and_both_messages(database):
    log = ConversationLog(database)
    result = exchange(log)

    with database.session() as session:
        messages = session.exec(select(Message).order_by(Message.id)).all()
    assert [(m.direction, m.customer_id, m.conversation_id) for m in messages] == [
        ("in", result.customer_id, result.conversation_id),
        ("out", result.customer_id, result.conversation_id),
    ]
    assert messages[0].emotion_signals == ["lexicon:order"] and messages[0].faq_id == "track_order"


def test_a_retried_delivery_is_logged_once(database):
    log = ConversationLog(database)
    first = exchange(log, message_id="same")
    assert log.snapshot("telegram", "u1", "same").duplicate

    again = exchange(log, message_id="same")

    assert again.duplicate and again.customer_id == first.customer_id
    with database.session() as session:
        assert len(session.exec(select(Message)).all()) == 2


def test_same_message_id_on_another_platform_is_not_a_duplicate(database):
    log = ConversationLog(database)
    exchange(log, message_id="42")
    assert not log.snapshot("wechat", "u1", "42").duplicate


def test_snapshot_of_a_returning_customer_has_recent_turns_with_bot_decisions(database):
    log = ConversationLog(database)
    exchange(log, message_id="a", text="first")
    exchange(log, message_id="b", text="second")

    snapshot = log.snapshot("telegram", "u1", "c")

    assert [t.text for t in snapshot.recent] == ["first", "second"]
    assert snapshot.recent[-1].bot_decision == "answer" and snapshot.language == "en"
    assert snapshot.last_reply_at is not None and not snapshot.duplicate


def test_unknown_customer_snapshot_is_empty(database):
    snapshot = ConversationLog(database).snapshot("telegram", "nobody", None)
    assert snapshot.customer_id is None and snapshot.recent == ()


def test_customer_is_found_by_name_platform_id_or_number(database):
    result = exchange(ConversationLog(database))
    customers = CustomerRepository(database)

    assert [c.id for c in customers.find("li lei")] == [result.customer_id]
    assert [c.id for c in customers.find("u1")] == [result.customer_id]
    assert [c.id for c in customers.find(f"#{result.customer_id}")] == [result.customer_id]
    assert customers.find("nobody at all") == []


def test_export_has_everything_and_forget_leaves_only_an_audit_line(database):
    log = ConversationLog(database)
    result = exchange(log)
    delivered = OutboxMessage(platform="telegram", platform_user_id="u1", text="An agent's reply", kind="agent")
    exchange(log, message_id="m2", text="thanks", deliveries=[delivered])
    customers = CustomerRepository(database)
    customers.add_note(result.customer_id, "agent", "prefers email")
    EmotionStore(database).raise_alert(result.customer_id, "three angry messages", not_since=utcnow())

    exported = customers.export(result.customer_id, actor="test")
    assert exported["customer"]["display_name"] == "Li Lei"
    assert [m["text"] for m in exported["messages"]][:2] == ["where is my order", "You can track it in My Orders."]
    assert exported["notes"][0]["text"] == "prefers email"
    assert exported["identities"][0]["platform_user_id"] == "u1"
    assert [d["text"] for d in exported["deliveries"]] == ["An agent's reply"]
    assert [a["reason"] for a in exported["emotion_alerts"]] == ["three angry messages"]

    target = f"customer:{result.customer_id}"
    customers.audit("slack:U1", "customer.lookup", target, {"query": "+86 138 0000 0000"})
    customers.audit("slack:U1", "customer.lookup", f"{target}2", {"query": "someone else"})  # customer #12, say
    assert customers.forget(result.customer_id, actor="test")
    assert customers.view(result.customer_id) is None
    with database.session() as session:
        assert session.exec(select(Message)).all() == []
        audit = [(a.action, a.detail) for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert audit == [
        ("customer.export", None),
        ("customer.lookup", None),  # who looked the customer up stays; the phone number they typed does not
        ("customer.lookup", {"query": "someone else"}),
        ("customer.forget", None),
    ]
    assert not log.snapshot("telegram", "u1", "m1").duplicate


def test_the_snapshot_carries_the_customer_tier_the_handoff_triggers_use(database):
    log = ConversationLog(database)
    customer_id = exchange(log).customer_id
    assert log.snapshot("telegram", "u1", "m2").tier == "standard"

    with database.session() as session:
        customer = session.get(Customer, customer_id)
        customer.tier = "vip"
        session.add(customer)
    assert log.snapshot("telegram", "u1", "m2").tier == "vip"


def known_exchange(log: ConversationLog, snapshot, message_id: str, language: str = "zh"):
    return log.record_exchange(
        "telegram",
        "u1",
        "u1",
        None,
        LoggedMessage("in", "还在吗", language=language, platform_message_id=message_id),
        [LoggedMessage("out", "在的", language=language)],
        known=snapshot,
    )


def test_an_exchange_logged_from_the_snapshot_lands_in_its_conversation(database):
    log = ConversationLog(database)
    first = exchange(log, message_id="a")
    snapshot = log.snapshot("telegram", "u1", "b")

    second = known_exchange(log, snapshot, "b")

    assert (second.customer_id, second.conversation_id) == (first.customer_id, first.conversation_id)
    after = log.snapshot("telegram", "u1", "c")
    assert after.language == "zh" and [t.text for t in after.recent] == ["where is my order", "还在吗"]
    assert log.snapshot("telegram", "u1", "b").duplicate


def test_a_conversation_closed_after_the_snapshot_does_not_get_the_message(database):
    log = ConversationLog(database)
    first = exchange(log, message_id="a")
    snapshot = log.snapshot("telegram", "u1", "b")
    with database.session() as session:
        conversation = session.get(Conversation, first.conversation_id)
        conversation.state = ConversationState.CLOSED
        session.add(conversation)

    second = known_exchange(log, snapshot, "b")

    assert second.customer_id == first.customer_id and second.conversation_id != first.conversation_id
    assert [t.text for t in log.snapshot("telegram", "u1", "c").recent] == ["还在吗"]


def test_a_customer_merged_away_after_the_snapshot_logs_under_the_kept_customer(database):
    log = ConversationLog(database)
    older = log.record_exchange("wechat", "w1", "w1", None, LoggedMessage("in", "hello"), []).customer_id
    exchange(log, message_id="a")
    snapshot = log.snapshot("telegram", "u1", "b")
    with database.session() as session:
        assert merge_customers(session, older, snapshot.customer_id) == older

    second = known_exchange(log, snapshot, "b")

    assert second.customer_id == older
    with database.session() as session:
        assert {m.customer_id for m in session.exec(select(Message)).all()} == {older}


def test_every_table_with_a_customers_rows_is_exported_and_forgotten():
    holding = {name for name, table in SQLModel.metadata.tables.items() if "customer_id" in table.columns}
    assert {model.__tablename__ for model in EXPORTED.values()} == holding
    assert {model.__tablename__ for model in FORGOTTEN} == holding
