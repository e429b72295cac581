"""Follow-up rules end to end on real databases: a handoff is resolved, the clock moves, the real SDK clients
deliver to the fake Telegram and WeChat APIs, or a staff task is made when the channel will not carry it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import select
from telegram import Bot
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_none

from adapters.telegram_sender import TelegramSender
from adapters.webchat_mailbox import WebChatMailbox
from adapters.wechat_api import OfficialAccountClient, WeChatSender, _transient
from bot.business import load_business_file
from bot.care.followups import CHECKIN, COMPLAINT, CSAT, DELIVERY_CHECK
from bot.care.rules import QuietHours
from bot.care.staff_texts import shown, task_title
from bot.care.wiring import Care, open_care
from bot.handoff.desk import Desks
from bot.handoff.service import HandoffService
from bot.handoff.triggers import Reason, TriggerHit
from bot.messages import InboundMessage, OutboundMessage
from bot.outbox import Outbox
from bot.settings import Settings
from bot.texts import DEFAULT_TEXTS
from storage.conversations import ConversationLog, ConversationSnapshot, LoggedMessage
from storage.handoffs import HandoffRepository
from storage.models import JobStatus, Message, OutboxMessage, utcnow
from tests.adapters.telegram_fake import TOKEN, FakeTelegram
from tests.adapters.wechat_fake import SAMPLE_APP_ID
from tests.care.helpers import Clock

say = DEFAULT_TEXTS.say
_users = itertools.count(1000)


@dataclass
class World:
    care: Care
    service: HandoffService
    outbox: Outbox
    clock: Clock
    database: object

    def conversation(self, platform: str, *labels: str) -> tuple[int, int, str]:
        user = str(next(_users)) if platform == "telegram" else f"{platform}-{next(_users)}"  # Telegram ids are numbers
        log = ConversationLog(self.database)
        exchange = None
        for n, label in enumerate(labels or ("neutral",)):
            exchange = log.record_exchange(
                platform,
                user,
                user,
                "Li Lei",
                LoggedMessage("in", f"message {n}", language="zh", emotion_label=label),
                [],
            )
        return exchange.customer_id, exchange.conversation_id, user

    async def resolved_handoff(self, platform: str, *labels: str, reason: str = Reason.ANGER) -> tuple[int, int, str]:
        customer_id, conversation_id, user = self.conversation(platform, *labels)
        handoff_id = self.service.open(customer_id, conversation_id, TriggerHit(reason, {}))
        await self.service.claim(handoff_id, "console:ann", "console")
        await self.service.resolve(handoff_id, "console:ann", "console")
        await self.outbox.deliver_due()  # "a person joined", the rating request: not what these tests look at
        return customer_id, handoff_id, user

    async def tick(self, **delta: float) -> None:
        self.clock.advance(**delta)
        await self.care.scheduler.run_all_due()
        await self.outbox.deliver_due()

    def job(self, kind: str, handoff_id: int):
        return self.care.jobs.by_key(f"{kind}:handoff-{handoff_id}")


def make_world(database, fake_telegram, fake_wechat, business_file=None) -> World:
    fake_telegram.reset()
    fake_wechat.reset()
    clock = Clock(utcnow())  # messages are logged at wall time; the test clock starts there and moves by hand
    wechat_retry = Retrying(retry=retry_if_exception(_transient), stop=stop_after_attempt(2), wait=wait_none())
    senders = {
        "telegram": TelegramSender(Bot(TOKEN, base_url=fake_telegram.url + "/bot")),
        "wechat": WeChatSender(OfficialAccountClient(SAMPLE_APP_ID, "app-secret", fake_wechat.url), wechat_retry),
        "web": WebChatMailbox(database).sender,  # the outbox row is the web chat's mailbox
    }
    outbox = Outbox(database, senders, clock=clock)
    care = open_care(Settings(), load_business_file(business_file), database, outbox, DEFAULT_TEXTS, clock=clock)
    care.followups.quiet = QuietHours("", "UTC")  # quiet hours have their own test
    service = HandoffService(HandoffRepository(database), outbox, desks=Desks([care.desk]), clock=clock)
    return World(care, service, outbox, clock, database)


@pytest.fixture
def world(database, fake_telegram, fake_wechat) -> World:
    return make_world(database, fake_telegram, fake_wechat)


def texts_sent(fake_telegram: FakeTelegram) -> list[str]:
    return [m["text"] for m in fake_telegram.sent]


async def test_a_problem_that_started_angry_gets_a_check_in_on_telegram_two_weeks_after_it_was_solved(
    world, fake_telegram
):
    _, handoff_id, _ = await world.resolved_handoff("telegram", "anger", "neutral")
    fake_telegram.reset()

    await world.tick(days=13, hours=23)
    assert say("followup_checkin", "zh") not in texts_sent(fake_telegram)
    await world.tick(hours=1)
    await world.tick(days=1)
    assert texts_sent(fake_telegram).count(say("followup_checkin", "zh")) == 1
    assert world.job(CHECKIN, handoff_id).outcome == "sent"


async def test_a_calm_conversation_gets_no_check_in_but_an_unanswered_rating_gets_one_reminder(world, fake_telegram):
    _, handoff_id, _ = await world.resolved_handoff("telegram", "neutral", "joy")
    fake_telegram.reset()
    assert world.job(CHECKIN, handoff_id) is None

    await world.tick(hours=24)
    await world.tick(days=20)
    reminders = [m for m in fake_telegram.sent if m["text"] == say("followup_csat", "zh")]
    assert len(reminders) == 1
    buttons = [b["callback_data"] for row in reminders[0]["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"rating:{handoff_id}:{n}" for n in range(1, 6)]


async def test_a_customer_who_already_rated_gets_no_reminder(world, fake_telegram):
    customer_id, handoff_id, _ = await world.resolved_handoff("telegram", "neutral")
    world.service.repository.record_rating(handoff_id, customer_id, 5)
    fake_telegram.reset()
    await world.tick(hours=25)
    assert fake_telegram.sent == []
    assert world.job(CSAT, handoff_id).outcome == "skipped: already rated"


async def test_a_follow_up_due_in_quiet_hours_waits_until_they_end(world, fake_telegram):
    _, handoff_id, _ = await world.resolved_handoff("telegram", "neutral")
    due = world.job(CSAT, handoff_id).due_at
    start, end = due - timedelta(hours=1), due + timedelta(hours=7)
    world.care.followups.quiet = QuietHours(f"{start:%H:%M}-{end:%H:%M}", "UTC")
    fake_telegram.reset()

    await world.tick(hours=24)
    assert fake_telegram.sent == [] and world.job(CSAT, handoff_id).outcome == "quiet hours"
    await world.tick(hours=6, minutes=59)
    assert fake_telegram.sent == []
    await world.tick(minutes=1)
    assert texts_sent(fake_telegram) == [say("followup_csat", "zh")]


async def test_a_wechat_check_in_after_the_48_hour_window_becomes_a_task_for_the_account_manager(world, fake_wechat):
    customer_id, handoff_id, _ = await world.resolved_handoff("wechat", "sadness")
    world.care.repository.set_account_manager(customer_id, "slack:U777")
    await world.tick(days=14)

    assert [m["text"]["content"] for m in fake_wechat.sent if "回访" in m["text"]["content"]] == []
    assert say("followup_checkin", "zh") not in [m["text"]["content"] for m in fake_wechat.sent]
    [task] = [t for t in world.care.repository.tasks() if t.customer_id == customer_id and t.kind == CHECKIN]
    assert task.assignee == "slack:U777" and say("followup_checkin", "zh") in task.detail
    assert "window is closed" in task.detail
    chinese = shown(task.message, "zh", task.detail)  # what a Chinese staff page shows
    assert "微信 48 小时 / 5 条消息的窗口已关闭" in chinese and say("followup_checkin", "zh") in chinese
    assert "window is closed" not in chinese and task_title(task.kind, "zh") == "回访客户（康复期跟进）"
    assert world.job(CHECKIN, handoff_id).outcome == "task: window closed"


async def test_a_complaint_contact_on_wechat_is_moved_inside_the_window_and_sent(world, fake_wechat):
    _customer_id, handoff_id, _ = await world.resolved_handoff("wechat", "anger", reason=Reason.COMPLAINT)
    job = world.job(COMPLAINT, handoff_id)
    assert job.due_at <= world.clock.now + timedelta(hours=24)
    fake_wechat.reset()
    await world.tick(hours=24)
    assert [m["text"]["content"] for m in fake_wechat.sent] == [say("followup_complaint", "zh")]
    assert world.job(CSAT, handoff_id) is None  # the contact asks how it went; no second message about it


async def test_wechat_refusing_with_45015_turns_the_follow_up_into_a_task_never_a_lost_message(world, fake_wechat):
    customer_id, handoff_id, _ = await world.resolved_handoff("wechat", "anger", reason=Reason.COMPLAINT)
    fake_wechat.reset()
    fake_wechat.failures.append((200, {"errcode": 45015, "errmsg": "response out of time limit"}))
    await world.tick(hours=24)
    assert fake_wechat.sent == []
    await world.tick(minutes=10)

    [task] = [t for t in world.care.repository.tasks() if t.customer_id == customer_id]
    assert task.kind == COMPLAINT and "45015" in task.detail and say("followup_complaint", "zh") in task.detail
    assert task.assignee == "care-team"  # no account manager: the fallback from the business file
    delivery = world.care.jobs.by_key(f"delivery:job-{world.job(COMPLAINT, handoff_id).id}")
    assert (delivery.kind, delivery.outcome) == (DELIVERY_CHECK, "task: delivery failed")


async def test_a_customer_who_said_stop_gets_no_follow_up_on_any_channel(world, fake_telegram, fake_wechat):
    customer_id, handoff_id, _user = await world.resolved_handoff("telegram", "anger", reason=Reason.COMPLAINT)
    snapshot = ConversationSnapshot(customer_id=customer_id)
    stop = InboundMessage("wechat", "o-other", "不要再发了！")
    reply = world.care.optout.intercept(stop, "不要再发了！", "zh", snapshot)
    assert reply.text == say("followup_opted_out", "zh")
    fake_telegram.reset()

    await world.tick(days=15)
    assert fake_telegram.sent == []
    outcomes = {world.job(kind, handoff_id).outcome for kind in (CHECKIN, COMPLAINT)}
    assert outcomes == {"skipped: opted out"}
    assert world.care.repository.tasks() == []

    resume = world.care.optout.intercept(stop, "Resume messages.", "en", snapshot)
    assert resume.text == say("followup_opted_in", "en") and not world.care.repository.opted_out(customer_id)


async def test_a_first_message_stop_from_a_new_customer_is_honoured_from_the_log(world):
    customer_id, _, _ = world.conversation("telegram", "neutral")
    with world.database.session() as session:
        first = session.exec(select(Message).where(Message.customer_id == customer_id)).one()
        first.decision = "opt_out"  # what the engine logs for "stop" before the customer row existed
        session.add(first)
    assert world.care.repository.opted_out(customer_id)


async def test_a_rule_turned_off_in_the_business_file_schedules_nothing(database, fake_telegram, fake_wechat, tmp_path):
    own = tmp_path / "business.toml"
    own.write_text("[followups.checkin]\nenabled = false\n[followups.csat_reminder]\nenabled = false\n")
    world = make_world(database, fake_telegram, fake_wechat, own)
    _, handoff_id, _ = await world.resolved_handoff("telegram", "anger")
    assert world.job(CHECKIN, handoff_id) is None and world.job(CSAT, handoff_id) is None
    assert [j for j in world.care.jobs.listing(status=JobStatus.PENDING) if j.kind.startswith("followup")] == []


async def test_the_wechat_five_message_quota_counted_here_or_refused_with_45047_becomes_a_task(world, fake_wechat):
    customer_id, handoff_id, user = await world.resolved_handoff("wechat", "anger", reason=Reason.COMPLAINT)
    for n in range(5):  # five of our messages since the customer's last one: the window's quota is used up
        world.outbox.enqueue(OutboundMessage("wechat", user, f"update {n}", "zh"), customer_id=customer_id)
    await world.outbox.deliver_due()
    fake_wechat.reset()
    await world.tick(hours=24)
    assert fake_wechat.sent == []
    [task] = [t for t in world.care.repository.tasks() if t.customer_id == customer_id]
    assert "5-message window is closed" in task.detail and say("followup_complaint", "zh") in task.detail
    assert world.job(COMPLAINT, handoff_id).outcome == "task: window closed"

    other_id, other_handoff, _ = await world.resolved_handoff("wechat", "anger", reason=Reason.COMPLAINT)
    fake_wechat.reset()
    fake_wechat.failures.append((200, {"errcode": 45047, "errmsg": "out of response count limit"}))
    await world.tick(hours=24)
    await world.tick(minutes=10)
    [refused] = [t for t in world.care.repository.tasks() if t.customer_id == other_id]
    assert "45047" in refused.detail and say("followup_complaint", "zh") in refused.detail
    assert world.job(COMPLAINT, other_handoff).outcome == "sent"  # handed to the outbox; the check made the task


async def test_stop_on_each_channel_silences_follow_ups_on_wechat_web_chat_and_telegram(
    world, fake_telegram, fake_wechat
):
    stopped = []
    for platform, phrase, language in (
        ("wechat", "不要再发了", "zh"),
        ("web", "stop", "en"),
        ("telegram", "退订", "zh"),
    ):
        customer_id, handoff_id, user = await world.resolved_handoff(platform, "anger", reason=Reason.COMPLAINT)
        reply = world.care.optout.intercept(
            InboundMessage(platform, user, phrase), phrase, language, ConversationSnapshot(customer_id=customer_id)
        )
        assert reply.text == say("followup_opted_out", language)
        stopped.append((customer_id, handoff_id))
    fake_telegram.reset()
    fake_wechat.reset()

    await world.tick(days=15)
    await world.tick(minutes=10)
    assert fake_telegram.sent == [] and fake_wechat.sent == []
    with world.database.session() as session:
        proactive = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "followup")).all()
    assert proactive == []  # nothing waits in the web chat's mailbox either
    for _customer_id, handoff_id in stopped:
        assert world.job(COMPLAINT, handoff_id).outcome == "skipped: opted out"
    assert world.care.repository.tasks() == []  # and no person is asked to contact them instead
