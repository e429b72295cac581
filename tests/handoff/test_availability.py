"""Honest handoffs: opened only when someone can take them; otherwise the customer is told and leaves a message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.emotion.base import EmotionTag
from bot.handoff.availability import Availability
from bot.handoff.desk import Desks
from bot.handoff.hours import parse_business_hours
from bot.handoff.service import TALK_TO_PERSON, HandoffService, HandoffSettings
from bot.handoff.triggers import Reason
from bot.handoff.waiting import Withdrawal
from bot.messages import InboundMessage
from bot.outbox import Outbox
from bot.policy import Decision, PlannedReply
from storage.conversations import ConversationLog, LoggedMessage
from storage.handoffs import HandoffRepository, HandoffStatus
from storage.models import ConversationState
from storage.presence import PresenceStore
from tests.handoff.helpers import ManualClock, RecordingDesk
from tests.handoff.test_service import conversation, state

NEUTRAL = EmotionTag("neutral", 0.0)
ANGRY = EmotionTag("anger", 0.95)


@pytest.fixture
def desk_world(database):
    clock = ManualClock()  # Monday 11:00 in Shanghai
    hours = parse_business_hours("Mon-Fri 09:00-18:00", "Asia/Shanghai")
    availability = Availability(hours, timedelta(minutes=10), clock)
    service = HandoffService(
        HandoffRepository(database),
        Outbox(database, clock=clock),
        settings=HandoffSettings(wait_minutes=5, hours=hours),
        desks=Desks([RecordingDesk()]),
        clock=clock,
        availability=availability,
        withdrawal=Withdrawal(["never mind", "不用了"]),
        topics=lambda language: "plans and billing",
    )
    return service, availability, clock, database


def ask(service, database, user, text, plan=None, emotion=NEUTRAL, language="en", choice=None):
    snapshot = ConversationLog(database).snapshot("web", user, None)
    return service.step(
        InboundMessage("web", user, text, choice_id=choice), text, language, snapshot, emotion, plan or _no_answer()
    )


def _no_answer():
    return PlannedReply(Decision.NO_ANSWER, "?")


def test_availability_follows_agent_presence_slack_and_business_hours():
    clock = ManualClock()
    availability = Availability(
        parse_business_hours("Mon-Fri 09:00-18:00", "Asia/Shanghai"), timedelta(minutes=10), clock
    )
    assert not availability.can_take_handoff()
    availability.agent_seen("console:ann")
    assert availability.can_take_handoff() and availability.agents_present() == ["console:ann"]
    clock.advance(11)
    assert not availability.can_take_handoff()
    availability.staffed("slack")
    assert availability.can_take_handoff()
    clock.advance(60 * 10)  # 21:11 in Shanghai
    assert not availability.can_take_handoff()


async def test_with_nobody_present_a_request_for_a_person_leaves_a_message_and_the_bot_keeps_the_chat(desk_world):
    service, _, _, database = desk_world
    customer_id, conversation_id, user = conversation(database, "human")

    step = ask(service, database, user, "human")
    assert step.plan.decision == "handoff_unavailable" and not step.live
    assert "Nobody from our team is online" in step.plan.text and "plans and billing" in step.plan.text
    handoff_id = service.after_logging(step, customer_id, conversation_id)

    handoff = service.repository.get(handoff_id)
    assert handoff.status == HandoffStatus.MESSAGE and handoff.reason == Reason.EXPLICIT_REQUEST
    assert state(database, conversation_id) == ConversationState.BOT  # not held for an agent nobody is
    assert handoff_id in [h.id for h in service.repository.queue()]  # staff find it in the console queue


async def test_with_nobody_present_a_failed_answer_offers_no_person_button(desk_world):
    service, _, _, database = desk_world
    _, _, user = conversation(database, "blue?")
    step = ask(service, database, user, "blue?")
    assert step.trigger is None and all(c.id != TALK_TO_PERSON for c in step.plan.choices)


async def test_with_an_agent_present_the_handoff_opens_and_the_chat_waits(desk_world):
    service, availability, _, database = desk_world
    availability.agent_seen("console:ann")
    customer_id, conversation_id, user = conversation(database, "转人工")

    step = ask(service, database, user, "转人工", language="zh")
    assert step.plan.decision == "handoff" and step.live and "正在为您转接人工客服" in step.plan.text
    service.after_logging(step, customer_id, conversation_id)
    assert state(database, conversation_id) == ConversationState.WAITING_AGENT


async def test_anger_with_a_complaint_is_acknowledged_and_apologised_for_before_the_handoff(desk_world):
    service, availability, _, database = desk_world
    availability.agent_seen("console:ann")
    _, _, user = conversation(database)

    english = ask(service, database, user, "This is ridiculous, fix it NOW", emotion=ANGRY)
    chinese = ask(service, database, user, "你们太过分了！马上给我解决！", emotion=ANGRY, language="zh")

    assert english.trigger.reason == Reason.ANGER and english.plan.text.startswith("I'm really sorry")
    assert chinese.plan.text.startswith("真的很抱歉") and "转接人工" in chinese.plan.text


async def test_while_waiting_faq_questions_are_answered_other_messages_acknowledged_and_never_mind_withdraws(
    desk_world,
):
    service, availability, _, database = desk_world
    availability.agent_seen("console:ann")
    customer_id, conversation_id, user = conversation(database, "human")
    handoff_id = service.after_logging(ask(service, database, user, "human"), customer_id, conversation_id)

    answer = ask(service, database, user, "how do I pay?", PlannedReply(Decision.ANSWER, "By card.", faq_id="pay"))
    assert (answer.plan.decision, answer.plan.shown_kind) == ("answer_while_waiting", "answer")
    other = ask(service, database, user, "my order number is 12345")
    assert other.plan.shown_kind == "waiting" and "added that to your request" in other.plan.text
    again = ask(service, database, user, "human!!", emotion=ANGRY)
    assert again.trigger is None  # already waiting: no second handoff

    withdrawn = ask(service, database, user, "never mind")
    assert withdrawn.plan.decision == "handoff_withdrawn" and withdrawn.rated_handoff == handoff_id
    assert service.repository.get(handoff_id).outcome == "handoff_withdrawn"
    assert state(database, conversation_id) == ConversationState.BOT


async def test_never_mind_inside_a_question_does_not_withdraw(desk_world):
    service, availability, _, database = desk_world
    availability.agent_seen("console:ann")
    customer_id, conversation_id, user = conversation(database, "human")
    service.after_logging(ask(service, database, user, "human"), customer_id, conversation_id)

    step = ask(service, database, user, "ok never mind. how do I pay?", PlannedReply(Decision.ANSWER, "By card."))
    assert step.plan.decision == "answer_while_waiting"
    assert state(database, conversation_id) == ConversationState.WAITING_AGENT


async def test_after_being_told_nobody_is_there_the_customers_message_is_noted_for_staff(desk_world):
    service, _, _, database = desk_world
    customer_id, conversation_id, user = conversation(database, "human")
    step = ask(service, database, user, "human")
    service.after_logging(step, customer_id, conversation_id)
    reply = LoggedMessage("out", step.plan.text, decision=step.plan.decision)
    ConversationLog(database).record_exchange("web", user, user, None, LoggedMessage("in", "human"), [reply])

    noted = ask(service, database, user, "please call me on 555 0100")
    answered = ask(service, database, user, "how do I pay?", PlannedReply(Decision.ANSWER, "By card."))
    assert noted.plan.decision == "left_message" and "noted that for our team" in noted.plan.text
    assert answered.plan.decision == "answer"


class CountingStore(PresenceStore):
    def __init__(self, db) -> None:
        super().__init__(db)
        self.reads = self.writes = 0

    def record(self, agent, seen_at) -> None:
        self.writes += 1
        super().record(agent, seen_at)

    def seen_since(self, since):
        self.reads += 1
        return super().seen_since(since)


def test_an_agent_signed_in_on_one_server_process_makes_handoffs_live_on_every_other(database):
    clock = ManualClock()
    hours = parse_business_hours("Mon-Fri 09:00-18:00", "Asia/Shanghai")
    web, worker = CountingStore(database), CountingStore(database)
    serving_the_console = Availability(hours, timedelta(minutes=10), clock, store=web)
    answering_customers = Availability(hours, timedelta(minutes=10), clock, store=worker)
    assert not answering_customers.can_take_handoff()

    serving_the_console.agent_seen("console:ann")
    clock.advance(0.1)  # past the few seconds a process keeps what it last read
    assert answering_customers.can_take_handoff() and answering_customers.agents_present() == ["console:ann"]

    reads = worker.reads
    for _ in range(50):  # the console polls; the hot path asks on every message: neither hits the database each time
        serving_the_console.agent_seen("console:ann")
        answering_customers.can_take_handoff()
    assert web.writes == 1 and worker.reads == reads

    clock.advance(10.2)  # ann closed the console 10 minutes ago
    assert not answering_customers.can_take_handoff()
    serving_the_console.agent_seen("console:ann")  # back again: written at once, the last write being old
    clock.advance(0.1)
    assert answering_customers.agents_present() == ["console:ann"] and web.writes == 2


async def test_a_likely_answer_offered_to_confirm_is_not_a_failed_turn(desk_world):
    service, availability, _, database = desk_world
    availability.agent_seen("console:ann")
    confirm = PlannedReply(Decision.CLARIFY, "Is it this?", likely="refunds")
    for faq_id, expected in (("refunds", None), (None, Reason.FAILED_TURNS)):  # a confirm, then a plain clarify
        _, _, user = conversation(database, "hello")
        step = ask(service, database, user, "can I get my money back", confirm)
        assert step.trigger is None  # read as answered, as before it was asked as a question
        asked = LoggedMessage("in", "can I get my money back", faq_id=faq_id)
        reply = LoggedMessage("out", confirm.text, decision=Decision.CLARIFY)
        ConversationLog(database).record_exchange("web", user, user, None, asked, [reply])

        after = ask(service, database, user, "what about the thing from last week")
        assert (after.trigger.reason if after.trigger else None) == expected
