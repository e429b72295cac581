"""Data requests through the real engine (bot/privacy): emotions off, who looked, expiry, consent, retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from bot.care.followups import CHECKIN, CSAT
from bot.privacy.retention import purge_expired
from bot.privacy.rules import normalise
from bot.texts import DEFAULT_TEXTS
from storage.emotions import EmotionStore
from storage.models import (
    CareTask,
    Conversation,
    Customer,
    CustomerPrivacy,
    EmotionAlert,
    Identity,
    InboxItem,
    Message,
    RetentionRun,
    ScheduledJob,
    utcnow,
)
from storage.privacy import EMOTION_FOLLOWUP, PrivacyStore
from tests.bot.conftest import message
from tests.privacy.helpers import files_holding

say = DEFAULT_TEXTS.say


def chat(runtime, user: str, text: str, message_id: str | None = None, **extra):
    return asyncio.run(runtime.engine.handle(message(user, text, message_id, **extra)))


def customer_id(runtime, user: str) -> int | None:
    with runtime.db.session() as session:
        return session.exec(select(Identity.customer_id).where(Identity.platform_user_id == user)).first()


def labels(runtime, user: str) -> list[str | None]:
    with runtime.db.session() as session:
        rows = session.exec(
            select(Message.emotion_label).where(
                Message.customer_id == customer_id(runtime, user), Message.direction == "in"
            )
        )
        return list(rows.all())


def test_phrases_match_whatever_the_case_spaces_and_end_punctuation():
    assert normalise("  What do you KNOW about me?? ") == "what do you know about me"
    assert normalise("我的 数据。") == "我的数据"
    assert normalise("Don’t analyse my emotions!") == "don't analyse my emotions"


def test_after_dont_analyse_my_emotions_no_label_profile_or_alert_and_handoffs_still_work(runtime, customer, staffed):
    chat(runtime, customer, "你好")
    cid = customer_id(runtime, customer)
    with runtime.db.session() as session:  # what the tagger said about earlier messages
        session.exec(update(Message).where(Message.customer_id == cid).values(emotion_label="anger"))
    EmotionStore(runtime.db).raise_alert(cid, "angry", not_since=utcnow())

    reply = chat(runtime, customer, "不要分析我的情绪")
    assert reply.replies[0].text == say("privacy_emotions_off", "zh")
    assert set(labels(runtime, customer)) == {None}
    with runtime.db.session() as session:
        assert session.exec(select(EmotionAlert).where(EmotionAlert.customer_id == cid)).all() == []
        assert not any(c.at_risk for c in session.exec(select(Conversation).where(Conversation.customer_id == cid)))

    assert chat(runtime, customer, "转人工").decision == "handoff"
    assert chat(runtime, customer, "太差劲了，我非常生气！！").emotion.label is None
    assert set(labels(runtime, customer)) == {None}
    summary = chat(runtime, customer, "我的数据").replies[0].text
    assert "不分析" in summary


def test_who_looked_at_my_data_lists_staff_roles_and_times_not_names(runtime, customer):
    chat(runtime, customer, "hello")
    cid = customer_id(runtime, customer)
    runtime.customers.audit("console:amy", "customer.view", f"customer:{cid}")
    runtime.customers.audit("cli", "customer.export", f"customer:{cid}")
    runtime.customers.audit("console:amy", "customer.view", f"customer:{cid}2")  # another customer

    text = chat(runtime, customer, "Who looked at my data?").replies[0].text
    assert text.startswith("Our team opened your record 2 times: an agent ")
    assert "an administrator" in text and "amy" not in text
    zh = chat(runtime, customer, "谁看过我的数据").replies[0].text
    assert zh.startswith("我们的客服共查看过您的记录 2 次：客服 ")

    runtime.engine.privacy.rules.show_staff_names = True
    try:
        assert "amy (an agent)" in chat(runtime, customer, "who looked at my data").replies[0].text
    finally:
        runtime.engine.privacy.rules.show_staff_names = False


def test_nobody_looked_is_said_plainly(runtime, customer):
    chat(runtime, customer, "hello")
    assert chat(runtime, customer, "who looked at my data").replies[0].text == say("privacy_no_accesses", "en")


def test_an_expired_confirmation_deletes_nothing(runtime, customer):
    chat(runtime, customer, "hello")
    chat(runtime, customer, "delete my data")
    rights = runtime.engine.privacy
    real = rights.store
    rights.store = PrivacyStore(runtime.db, clock=lambda: utcnow() + timedelta(minutes=11))
    try:
        assert chat(runtime, customer, "yes").replies[0].text == say("privacy_delete_expired", "en")
    finally:
        rights.store = real
    assert customer_id(runtime, customer) is not None


def test_a_customer_on_legal_hold_is_told_why_nothing_is_deleted(runtime, customer):
    chat(runtime, customer, "hello")
    runtime.engine.privacy.store.set_legal_hold(customer_id(runtime, customer), True, actor="cli")
    assert chat(runtime, customer, "删除我的数据").replies[0].text == say("privacy_on_hold", "zh")
    assert customer_id(runtime, customer) is not None


def test_strict_consent_stores_nothing_until_the_customer_agrees(runtime, customer):
    rules = runtime.engine.privacy.rules
    rules.strict_consent = True
    try:
        question = chat(runtime, customer, "where is my order")
        assert question.replies[0].text == say("privacy_consent_question", "en")
        assert customer_id(runtime, customer) is None
        assert chat(runtime, customer, "我同意").replies[0].text == say("privacy_consent_thanks", "zh")
    finally:
        rules.strict_consent = False
    with runtime.db.session() as session:
        stored = session.get(CustomerPrivacy, customer_id(runtime, customer))
    assert stored.consent == "given" and stored.notice_version == rules.notice_version and stored.consent_at


def test_withdrawing_consent_deletes_like_a_delete_request(runtime, customer):
    chat(runtime, customer, "I agree")
    reply = chat(runtime, customer, "withdraw my consent")
    assert reply.replies[0].text.startswith("Your consent is withdrawn") and "D-" in reply.replies[0].text
    assert customer_id(runtime, customer) is None


def test_retention_purge_deletes_old_data_keeps_held_customers_and_counts(runtime, customer):
    old_user, held_user = f"{customer}-old", f"{customer}-held"
    chat(runtime, old_user, "my secret marker-retention-old text")
    chat(runtime, held_user, "marker-retention-held text")
    chat(runtime, customer, "marker-retention-recent text")
    long_ago = utcnow() - timedelta(days=40)
    held = customer_id(runtime, held_user)
    runtime.engine.privacy.store.set_legal_hold(held, True, actor="cli")
    with runtime.db.session() as session:
        for user in (old_user, held_user):
            cid = customer_id(runtime, user)
            session.exec(update(Message).where(Message.customer_id == cid).values(created_at=long_ago))
            session.exec(update(Customer).where(Customer.id == cid).values(last_seen_at=long_ago))

    run = purge_expired(runtime.db, utcnow(), days=30)

    assert run.customers_deleted >= 1 and run.messages_deleted >= 2 and run.held_customers >= 1
    assert customer_id(runtime, old_user) is None
    assert customer_id(runtime, held_user) == held and labels(runtime, held_user)
    assert customer_id(runtime, customer) is not None
    with runtime.db.session() as session:
        stored = session.get(RetentionRun, run.id)
    assert sum(stored.counts["per_direction"].values()) == run.messages_deleted
    left = files_holding(["marker-retention-old", old_user, "marker-retention-held"], [runtime.settings.data_dir])
    assert list(left) == ["marker-retention-held"]


def test_the_privacy_notice_version_and_time_are_stored_when_a_chat_opens(runtime, customer):
    opened = asyncio.run(runtime.engine.chat_event(message(customer, "/start", "open-1"), "start"))
    assert opened.replies[1].text == say("privacy_notice", "en")
    with runtime.db.session() as session:
        stored = session.get(CustomerPrivacy, opened.customer_id)
    assert stored.notice_version == runtime.engine.privacy.rules.notice_version and stored.notice_seen_at
    assert "notice 2026-12-01 shown" in chat(runtime, customer, "my data").replies[0].text


def test_dont_analyse_my_emotions_clears_the_care_notices_and_check_ins_emotions_led_to(runtime, customer):
    assert EMOTION_FOLLOWUP == CHECKIN  # storage names the care kind it clears; it must stay bot/care's
    chat(runtime, customer, "hello")
    cid = customer_id(runtime, customer)
    care = runtime.care
    conversation = chat(runtime, customer, "still there?").conversation_id
    alert = EmotionStore(runtime.db).raise_alert(cid, "angry", not_since=utcnow())
    care.alerts.tell(cid, "alert", f"alert:{alert.id}", "alert", reason="angry")
    care.alerts.tell(cid, "at_risk", f"at-risk:{conversation}", "at_risk", conversation=conversation)
    checkin, _ = care.jobs.schedule(CHECKIN, utcnow() + timedelta(days=3), {}, customer_id=cid, dedup_key=f"c{cid}")
    csat, _ = care.jobs.schedule(CSAT, utcnow() + timedelta(days=1), {}, customer_id=cid, dedup_key=f"s{cid}")
    task, _ = care.repository.add_task(CHECKIN, "Check in", utcnow(), customer_id=cid, dedup_key=f"t{cid}")
    care.alerts.task_created(task.id)
    other, _ = care.repository.add_task("manual", "Call back", utcnow(), customer_id=cid, dedup_key=f"m{cid}")
    care.alerts.task_created(other.id)

    chat(runtime, customer, "Don't analyse my emotions")

    with runtime.db.session() as session:
        inbox = session.exec(select(InboxItem.dedup_key).where(InboxItem.customer_id == cid)).all()
        jobs = session.exec(select(ScheduledJob.kind, ScheduledJob.dedup_key).where(ScheduledJob.customer_id == cid))
        tasks = session.exec(select(CareTask.id).where(CareTask.customer_id == cid)).all()
        kept_jobs = sorted(key for _kind, key in jobs.all())
    assert inbox == [f"task:{other.id}"]
    assert kept_jobs == sorted([f"s{cid}", f"notify:task:{other.id}"])
    assert tasks == [other.id] and checkin != csat

    chat(runtime, customer, "This is terrible!!! I am furious, nobody helps me, worst service ever!!!")
    chat(runtime, customer, "Useless! I am so angry, this is a disgrace!!!")
    with runtime.db.session() as session:
        assert session.exec(select(InboxItem).where(InboxItem.customer_id == cid, InboxItem.kind != "task")).all() == []
        assert session.exec(select(EmotionAlert).where(EmotionAlert.customer_id == cid)).all() == []
