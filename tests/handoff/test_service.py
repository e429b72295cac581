"""The handoff state machine on real databases (SQLite and PostgreSQL): guarded, idempotent, honest."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlmodel import select

from bot.emotion.base import EmotionTag
from bot.handoff.desk import Desks
from bot.handoff.hours import parse_business_hours
from bot.handoff.service import RATING_PREFIX, TALK_TO_PERSON, HandoffService, HandoffSettings, Outcome
from bot.handoff.triggers import Reason, TriggerHit
from bot.messages import InboundMessage
from bot.outbox import Outbox
from bot.policy import Decision, PlannedReply
from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository
from storage.handoffs import HandoffRepository
from storage.models import Conversation, ConversationState, OutboxMessage
from tests.handoff.helpers import ManualClock, RecordingDesk

_users = itertools.count()
HIT = TriggerHit(Reason.ANGER, {"message": "this is ridiculous", "score": 0.9, "threshold": 0.6})


@pytest.fixture
def world(database):
    clock = ManualClock()
    desk = RecordingDesk()
    repository = HandoffRepository(database)
    service = HandoffService(
        repository,
        Outbox(database, clock=clock),
        settings=HandoffSettings(wait_minutes=5, hours=parse_business_hours("Mon-Fri 09:00-18:00", "Asia/Shanghai")),
        desks=Desks([desk]),
        clock=clock,
    )
    return service, desk, clock, database


def conversation(database, text: str = "this is ridiculous") -> tuple[int, int, str]:
    user = f"web-user-{next(_users)}"
    exchange = ConversationLog(database).record_exchange(
        "web", user, user, "Ann", LoggedMessage("in", text, language="en", emotion_label="anger"), []
    )
    return exchange.customer_id, exchange.conversation_id, user


def outbox_rows(database, customer_id: int) -> list[OutboxMessage]:
    with database.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.customer_id == customer_id).order_by(OutboxMessage.id)
        return list(session.exec(query).all())


def state(database, conversation_id: int) -> str:
    with database.session() as session:
        return session.get(Conversation, conversation_id).state


async def test_open_stores_evidence_and_summary_and_only_once_per_conversation(world):
    service, _, _, database = world
    customer_id, conversation_id, _ = conversation(database)

    handoff_id = service.open(customer_id, conversation_id, HIT)
    again = service.open(customer_id, conversation_id, HIT)

    handoff = service.repository.get(handoff_id)
    assert again is None
    assert handoff.reason == "anger" and handoff.evidence["message"] == "this is ridiculous"
    assert "this is ridiculous" in handoff.summary
    assert state(database, conversation_id) == ConversationState.WAITING_AGENT


async def test_claim_reply_resolve_loop_with_guards(world):
    service, desk, _, database = world
    customer_id, conversation_id, _ = conversation(database)
    handoff_id = service.open(customer_id, conversation_id, HIT)

    assert (await service.reply(handoff_id, "slack:U1", "hi", "slack", "1")).outcome == Outcome.NOT_CLAIMED
    assert (await service.claim(handoff_id, "slack:U1", "slack")).outcome == Outcome.OK
    assert (await service.claim(handoff_id, "slack:U1", "slack")).outcome == Outcome.DUPLICATE
    second = await service.claim(handoff_id, "console:bob", "console")
    assert second.outcome == Outcome.ALREADY_CLAIMED and "<@U1>" in second.message
    assert state(database, conversation_id) == ConversationState.AGENT

    assert (await service.reply(handoff_id, "console:bob", "me too", "console", "x")).outcome == Outcome.NOT_OWNER
    assert (await service.reply(handoff_id, "slack:U1", "Hello, Ann here", "slack", "ts1")).outcome == Outcome.OK
    assert (await service.reply(handoff_id, "slack:U1", "Hello, Ann here", "slack", "ts1")).outcome == Outcome.DUPLICATE

    assert (await service.resolve(handoff_id, "slack:U1", "slack")).outcome == Outcome.OK
    assert (await service.resolve(handoff_id, "slack:U1", "slack")).outcome == Outcome.CLOSED
    assert (await service.claim(handoff_id, "console:bob", "console")).outcome == Outcome.CLOSED
    assert state(database, conversation_id) == ConversationState.BOT

    rows = outbox_rows(database, customer_id)
    assert [row.kind for row in rows] == ["agent_joined", "agent", "rating_request"]
    assert rows[1].text == "Hello, Ann here"
    assert [c["id"] for c in rows[2].choices] == [f"{RATING_PREFIX}{handoff_id}:{n}" for n in range(1, 6)]
    assert [event[0] for event in desk.events] == ["claimed", "agent", "resolved"]
    assert service.repository.get(handoff_id).outcome == "resolved"


async def test_take_over_moves_ownership_without_a_second_joined_message(world):
    service, _, _, database = world
    customer_id, conversation_id, _ = conversation(database)
    handoff_id = service.open(customer_id, conversation_id, HIT)
    await service.claim(handoff_id, "slack:U1", "slack")

    result = await service.claim(handoff_id, "slack:U2", "slack", take_over=True)

    assert result.outcome == Outcome.OK and result.handoff.agent == "slack:U2"
    assert [row.kind for row in outbox_rows(database, customer_id)] == ["agent_joined"]


async def test_rating_choice_is_stored_once_for_the_right_customer(world):
    service, _, _, database = world
    customer_id, conversation_id, user = conversation(database)
    handoff_id = service.open(customer_id, conversation_id, HIT)
    await service.claim(handoff_id, "console:ann", "console")
    await service.resolve(handoff_id, "console:ann", "console")
    snapshot = ConversationLog(database).snapshot("web", user, None)
    choice = InboundMessage("web", user, "4", choice_id=f"{RATING_PREFIX}{handoff_id}:4")

    step = service.step(choice, "4", "en", snapshot, EmotionTag("neutral", 0.0), PlannedReply("no_answer", "?"))

    assert step.rated_handoff == handoff_id and step.plan.decision == "rating"
    assert service.repository.get(handoff_id).rating == 4
    assert not service.repository.record_rating(handoff_id, customer_id, 1)  # once
    assert not service.repository.record_rating(handoff_id, customer_id + 999, 5)  # someone else's


async def test_a_failed_answer_offers_a_person_and_pressing_it_hands_off(world):
    service, _, _, database = world
    _, _, user = conversation(database)
    snapshot = ConversationLog(database).snapshot("web", user, None)
    neutral = EmotionTag("neutral", 0.0)

    step = service.step(
        InboundMessage("web", user, "blue?"), "blue?", "en", snapshot, neutral, PlannedReply(Decision.NO_ANSWER, "?")
    )
    assert step.trigger is None and step.plan.choices[-1].id == TALK_TO_PERSON

    pressed = InboundMessage("web", user, "Talk to a person", choice_id=TALK_TO_PERSON)
    step = service.step(pressed, "Talk to a person", "en", snapshot, neutral, PlannedReply(Decision.NO_ANSWER, "?"))
    assert step.trigger.reason == Reason.CUSTOMER_CHOICE and step.plan.decision == "handoff"


async def test_unclaimed_handoff_gets_one_wait_message_with_real_figures_and_a_re_ping(world):
    service, desk, clock, database = world
    customer_id, conversation_id, _ = conversation(database)
    handoff_id = service.open(customer_id, conversation_id, HIT)

    clock.advance(4)
    assert await service.check_waiting() == 0
    clock.advance(2)
    assert await service.check_waiting() == 1
    assert await service.check_waiting() == 0

    (wait,) = outbox_rows(database, customer_id)
    assert "waited 6 minutes" in wait.text and "0 other customers asked before you" in wait.text
    assert "expected" not in wait.text  # no invented wait
    assert desk.events == [("waiting", handoff_id, 6)]


async def test_outside_business_hours_no_handoff_opens_and_the_customer_is_told_the_hours(world):
    service, _, clock, database = world
    _, _, user = conversation(database)
    snapshot = ConversationLog(database).snapshot("web", user, None)
    clock.advance(60 * 10)  # 21:00 in Shanghai

    step = service.step(
        InboundMessage("web", user, "human"),
        "human",
        "en",
        snapshot,
        EmotionTag("neutral", 0.0),
        PlannedReply("answer", ""),
    )

    assert step.plan.decision == "handoff_unavailable" and not step.live
    assert "available Mon-Fri 09:00-18:00 (Asia/Shanghai)" in step.plan.text and "Leave your message" in step.plan.text


async def test_reply_to_a_customer_who_deleted_their_data_is_refused_clearly(world):
    service, _, _, database = world
    customer_id, conversation_id, _ = conversation(database)
    handoff_id = service.open(customer_id, conversation_id, HIT)
    await service.claim(handoff_id, "console:ann", "console")
    service.repository.save_thread(handoff_id, "console", "console", str(handoff_id))
    CustomerRepository(database).forget(customer_id, "customer")

    result = await service.reply(handoff_id, "console:ann", "still there?", "console", "k1")

    assert result.outcome == Outcome.CUSTOMER_GONE and "deleted their data" in result.message
    assert outbox_rows(database, customer_id) == []
    assert (await service.claim(handoff_id + 100, "console:ann", "console")).outcome == Outcome.MISSING


class SlowDesk(RecordingDesk):
    """Slack taking its time: the card is posted only when the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()

    async def handoff_started(self, ticket) -> None:
        await self.go.wait()
        await super().handoff_started(ticket)


async def test_a_slow_desk_never_delays_the_customer_and_hears_each_conversation_in_order(world):
    service, _, _, database = world
    desk = SlowDesk()
    service.desks = Desks([desk])
    customer_id, conversation_id, _ = conversation(database)
    handoff_id = service.open(customer_id, conversation_id, HIT)

    service.announce_soon("handoff", handoff_id, conversation_id, "this is ridiculous")
    service.announce_soon("held_for_agent", None, conversation_id, "hello??")
    assert desk.events == []  # nothing waited for the desk; the mirror waits for the card

    desk.go.set()
    await service.settle()
    assert desk.events == [("started", handoff_id), ("customer", handoff_id, "hello??")]
