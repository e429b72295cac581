from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.exc import OperationalError

from bot.messages import Choice, OutboundMessage
from bot.outbox import DeliveryError, Outbox, RetryPolicy
from storage.conversations import ConversationLog, LoggedMessage
from storage.customers import CustomerRepository
from storage.models import OutboxStatus, utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ScriptedSender:
    """A platform that answers each send with the next scripted outcome (None = success)."""

    def __init__(self, *outcomes: DeliveryError | None) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> str | None:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append(message)
        return f"pm-{len(self.sent)}"


def outbound(text: str = "Your refund is on its way.") -> OutboundMessage:
    return OutboundMessage("telegram", "u1", text, "en", chat_id="c1", choices=[Choice("r5", "5")], kind="agent")


async def test_a_failed_send_is_retried_with_backoff_and_delivered_once(database):
    clock, sender = Clock(), ScriptedSender(DeliveryError("HTTP 500"), None)
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(first_delay=2), clock=clock)
    row_id = outbox.enqueue(outbound())

    assert await outbox.deliver_due() == 0
    assert outbox.get(row_id).last_error == "HTTP 500"
    clock.advance(1)
    assert await outbox.deliver_due() == 0 and sender.sent == []
    clock.advance(1)
    assert await outbox.deliver_due() == 1
    assert await outbox.deliver_due() == 0

    row = outbox.get(row_id)
    assert (row.status, row.attempts, row.platform_message_id) == (OutboxStatus.DELIVERED, 2, "pm-1")
    assert [m.text for m in sender.sent] == ["Your refund is on its way."]
    assert sender.sent[0].choices == [Choice("r5", "5")] and sender.sent[0].chat_id == "c1"


async def test_rate_limit_waits_for_retry_after(database):
    clock, sender = Clock(), ScriptedSender(DeliveryError("429", retry_after=30))
    outbox = Outbox(database, {"telegram": sender}, clock=clock)
    outbox.enqueue(outbound())

    await outbox.deliver_due()
    clock.advance(29)
    assert await outbox.deliver_due() == 0
    clock.advance(1)
    assert await outbox.deliver_due() == 1


async def test_permanent_failures_and_exhausted_retries_are_kept_as_failed_with_the_error(database):
    log = ConversationLog(database)
    customer = log.record_exchange("telegram", "u1", "c1", None, LoggedMessage("in", "hi"), []).customer_id
    clock = Clock()
    sender = ScriptedSender(
        DeliveryError("403 bot was blocked by the user", permanent=True), *[DeliveryError("500")] * 3
    )
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(max_attempts=3, first_delay=1), clock=clock)
    blocked = outbox.enqueue(outbound("one"), customer_id=customer)
    flaky = outbox.enqueue(outbound("two"), customer_id=customer)

    for _ in range(4):
        await outbox.deliver_due()
        clock.advance(60)

    assert [(m.id, m.status) for m in outbox.failed_for(customer)] == [
        (blocked, OutboxStatus.FAILED),
        (flaky, OutboxStatus.FAILED),
    ]
    assert outbox.get(blocked).attempts == 1 and "blocked" in outbox.get(blocked).last_error
    assert outbox.get(flaky).attempts == 3


async def test_pending_messages_survive_a_restart(database):
    Outbox(database, {}).enqueue(outbound("sent before the crash"))

    sender = ScriptedSender()
    assert await Outbox(database, {"telegram": sender}).deliver_due() == 1
    assert [m.text for m in sender.sent] == ["sent before the crash"]


async def test_the_same_dedup_key_is_stored_and_sent_once(database):
    sender = ScriptedSender()
    outbox = Outbox(database, {"telegram": sender})
    first = outbox.enqueue(outbound(), dedup_key="reply:wechat:123")
    second = outbox.enqueue(outbound(), dedup_key="reply:wechat:123")

    assert first == second
    await outbox.deliver_due()
    assert len(sender.sent) == 1


async def test_forgetting_a_customer_drops_their_undelivered_messages(database):
    log = ConversationLog(database)
    customer = log.record_exchange("telegram", "u1", "c1", None, LoggedMessage("in", "hi"), []).customer_id
    sender = ScriptedSender()
    outbox = Outbox(database, {"telegram": sender})
    outbox.enqueue(outbound(), customer_id=customer)

    CustomerRepository(database).forget(customer, actor="test")

    assert await outbox.deliver_due() == 0 and sender.sent == []


class SlowSender(ScriptedSender):
    """Gives way to other work while "on the network", as a real HTTP send does."""

    async def send(self, message: OutboundMessage) -> str | None:
        await asyncio.sleep(0)
        return await super().send(message)


async def test_two_server_processes_sharing_a_database_send_each_message_once(database):
    sender = SlowSender()
    first, second = Outbox(database, {"telegram": sender}), Outbox(database, {"telegram": sender})
    for n in range(5):
        first.enqueue(outbound(f"message {n}"))

    await asyncio.gather(first.deliver_due(), second.deliver_due())

    assert sorted(m.text for m in sender.sent) == [f"message {n}" for n in range(5)]


async def test_a_row_claimed_by_a_process_that_died_is_retried_after_the_lease(database):
    clock, sender = Clock(), ScriptedSender()
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(claim_seconds=60), clock=clock)
    row_id = outbox.enqueue(outbound())
    assert outbox._claim(row_id, clock())  # a process took it, then died before sending

    assert await outbox.deliver_due() == 0
    clock.advance(60)
    assert await outbox.deliver_due() == 1 and len(sender.sent) == 1


async def test_a_database_cut_between_sent_and_marked_delivered_sends_nothing_twice(database):
    clock = Clock()
    outbox = Outbox(database, retry=RetryPolicy(claim_seconds=60, mark_retry_delay=0), clock=clock)
    real_session = database.session
    outages = {"left": 0}

    def session():
        if outages["left"]:
            outages["left"] -= 1
            raise OperationalError("UPDATE outbox_message", {}, Exception("server closed the connection unexpectedly"))
        return real_session()

    class CutAfterSending(ScriptedSender):
        async def send(self, message):
            platform_id = await super().send(message)
            outages["left"] = 3  # the platform took it; the next three database calls find no server
            return platform_id

    sender = CutAfterSending()
    outbox.add_sender("telegram", sender)
    database.session = session
    try:
        row_id = outbox.enqueue(outbound())
        assert await outbox.deliver_due() == 1
        clock.advance(61)  # past the claim: a row left unmarked would be sent again now
        assert await outbox.deliver_due() == 0
    finally:
        del database.session
    assert len(sender.sent) == 1 and outbox.get(row_id).status == OutboxStatus.DELIVERED
