"""The outbox in parallel across chats, in order within one, retried for hours, then failed and re-queueable."""

from __future__ import annotations

import asyncio
import threading

import run
from bot.messages import OutboundMessage
from bot.outbox import DeliveryError, Outbox, RetryPolicy, outbox_row
from storage.db import Database
from storage.models import OutboxStatus
from tests.bot.test_outbox import Clock, ScriptedSender


def to_chat(chat: str, text: str, platform: str = "telegram") -> OutboundMessage:
    return OutboundMessage(platform, f"user-{chat}", text, "en", chat_id=chat, kind="answer")


class PerChatSender:
    """A platform whose chats each follow their own script: a chat listed in `down` fails until taken off it."""

    def __init__(self) -> None:
        self.down: dict[str, DeliveryError] = {}
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: OutboundMessage) -> str | None:
        await asyncio.sleep(0)
        if message.chat_id in self.down:
            raise self.down[message.chat_id]
        self.sent.append((message.chat_id, message.text))
        return str(len(self.sent))


def texts_for(sender: PerChatSender, chat: str) -> list[str]:
    return [text for sent_chat, text in sender.sent if sent_chat == chat]


async def test_a_reply_queued_after_one_in_backoff_waits_for_it_and_other_chats_go_on(database):
    clock, sender = Clock(), PerChatSender()
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(first_delay=10), clock=clock)
    sender.down["a"] = DeliveryError("HTTP 502")
    outbox.enqueue(to_chat("a", "a1"))
    outbox.enqueue(to_chat("b", "b1"))
    await outbox.deliver_due()
    outbox.enqueue(to_chat("a", "a2"))  # due now, but a1 is still waiting out its backoff
    outbox.enqueue(to_chat("b", "b2"))

    await outbox.deliver_due()
    assert texts_for(sender, "a") == [] and texts_for(sender, "b") == ["b1", "b2"]

    del sender.down["a"]
    clock.advance(10)
    await outbox.deliver_due()
    assert texts_for(sender, "a") == ["a1", "a2"]


async def test_order_within_a_chat_holds_across_a_restart_and_a_second_process(database):
    clock, sender = Clock(), PerChatSender()
    first = Outbox(database, {"telegram": sender}, RetryPolicy(first_delay=5), clock=clock)
    sender.down["a"] = DeliveryError("timed out")
    for n in range(5):
        first.enqueue(to_chat("a", f"a{n}"))
    await first.deliver_due()
    del sender.down["a"]
    clock.advance(5)

    restarted = Outbox(database, {"telegram": sender}, clock=clock)
    other_process = Outbox(database, {"telegram": sender}, clock=clock)
    await asyncio.gather(restarted.deliver_due(), other_process.deliver_due(), restarted.deliver_due())

    assert texts_for(sender, "a") == [f"a{n}" for n in range(5)]


class GatedSender:
    """Each send waits until the test lets it through: shows how many are on the network at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.gate = asyncio.Event()

    async def send(self, message: OutboundMessage) -> str | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await self.gate.wait()
        self.in_flight -= 1
        return None


async def test_chats_are_sent_in_parallel_up_to_the_platform_limit(database):
    sender = GatedSender()
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(concurrency=3))
    for chat in "abcde":
        outbox.enqueue(to_chat(chat, "hello"))

    delivery = asyncio.create_task(outbox.deliver_due())
    for _ in range(50):
        await asyncio.sleep(0.01)
        if sender.in_flight == 3:
            break
    assert sender.in_flight == 3  # one slow chat no longer holds up everyone, and the limit is kept
    sender.gate.set()
    assert await delivery == 5 and sender.most_in_flight == 3


async def test_a_rate_limit_pauses_the_whole_platform_for_retry_after(database):
    clock, sender = Clock(), ScriptedSender(DeliveryError("429 Too Many Requests", retry_after=30))
    outbox = Outbox(database, {"telegram": sender}, clock=clock)
    outbox.enqueue(to_chat("a", "a1"))
    assert await outbox.deliver_due() == 0
    outbox.enqueue(to_chat("b", "b1"))

    clock.advance(29)
    assert await outbox.deliver_due() == 0  # another chat waits too: the limit is the bot's, not the chat's
    clock.advance(1)
    assert await outbox.deliver_due() == 2


async def test_a_platform_down_for_an_hour_is_retried_until_it_is_back(database):
    clock, sender = Clock(), PerChatSender()
    outbox = Outbox(database, {"telegram": sender}, clock=clock)
    sender.down["a"] = DeliveryError("HTTP 500")
    row = outbox.enqueue(to_chat("a", "your refund"))
    for _ in range(20):  # an hour of backoff (capped at 5 minutes a try)
        await outbox.deliver_due()
        clock.advance(300)
    assert outbox.get(row).status == OutboxStatus.PENDING and outbox.get(row).attempts > 10

    del sender.down["a"]
    await outbox.deliver_due()
    assert outbox.get(row).status == OutboxStatus.DELIVERED and sender.sent == [("a", "your refund")]


async def test_a_ten_minute_outage_ends_with_every_reply_delivered_in_order_within_five_minutes(database):
    clock, sender = Clock(), PerChatSender()
    outbox = Outbox(database, {"telegram": sender}, clock=clock)
    chats = ["a", "b", "c"]
    for chat in chats:
        sender.down[chat] = DeliveryError("HTTP 502")
        for n in range(3):
            outbox.enqueue(to_chat(chat, f"reply {n}"))
    attempts = {chat: 0 for chat in chats}
    counting = sender.send

    async def send(message):
        attempts[message.chat_id] += message.chat_id in sender.down
        return await counting(message)

    sender.send = send
    elapsed = 0
    while elapsed < 600:  # the platform answers 502 for ten minutes
        await outbox.deliver_due()
        clock.advance(2)
        elapsed += 2
    sender.down.clear()
    while elapsed < 600 + 300 and len(sender.sent) < 9:  # backoff is capped at 5 minutes a try
        await outbox.deliver_due()
        clock.advance(2)
        elapsed += 2
    for chat in chats:
        assert texts_for(sender, chat) == ["reply 0", "reply 1", "reply 2"]
        assert attempts[chat] <= 10  # 1, 2, 4 ... 256 s apart: only each chat's first reply is tried


async def test_past_the_retry_window_a_message_fails_with_the_reason_and_can_be_requeued(database):
    clock, sender = Clock(), PerChatSender()
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(window_hours=1), clock=clock)
    sender.down["a"] = DeliveryError("HTTP 500")
    row = outbox.enqueue(to_chat("a", "your refund"))
    for _ in range(20):
        await outbox.deliver_due()
        clock.advance(300)

    failed = outbox.get(row)
    assert failed.status == OutboxStatus.FAILED and failed.last_error.startswith("gave up after")
    assert "HTTP 500" in failed.last_error
    assert [r.id for r in outbox.listing(OutboxStatus.FAILED)] == [row]

    del sender.down["a"]
    assert outbox.retry([row]) == [row]
    await outbox.deliver_due()
    assert outbox.get(row).status == OutboxStatus.DELIVERED and sender.sent == [("a", "your refund")]


def test_wechat_messages_are_not_retried_past_its_48_hour_window():
    policy = RetryPolicy(window_hours=72)
    assert policy.window("wechat").total_seconds() < 48 * 3600 <= policy.window("telegram").total_seconds()


async def test_a_message_queued_from_a_worker_thread_wakes_the_running_outbox(database):
    sender, stop = PerChatSender(), asyncio.Event()
    outbox = Outbox(database, {"telegram": sender})
    running = asyncio.create_task(outbox.run(stop, idle_seconds=3600))  # no idle tick to rescue a missed wake
    await asyncio.sleep(0.05)
    worker = threading.Thread(target=outbox.enqueue, args=(to_chat("a", "from a thread"),))
    worker.start()
    await asyncio.to_thread(worker.join)
    for _ in range(200):
        if sender.sent:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert sender.sent == [("a", "from a thread")]


class RecordingGate(GatedSender):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    async def send(self, message: OutboundMessage) -> str | None:
        await super().send(message)
        self.texts.append(message.text)
        return None


async def test_replies_queued_while_their_chat_is_sending_follow_in_order_without_waiting_for_a_pass(database):
    sender, stop = RecordingGate(), asyncio.Event()
    sent = sender.texts
    outbox = Outbox(database, {"telegram": sender})
    running = asyncio.create_task(outbox.run(stop, idle_seconds=3600))  # only the queued messages wake it
    await asyncio.sleep(0.05)
    await asyncio.to_thread(outbox.enqueue, to_chat("a", "a1"))
    for _ in range(1000):  # up to 10 s on a loaded machine; ends as soon as it happened
        if sender.in_flight:
            break
        await asyncio.sleep(0.01)
    for text in ("a2", "a3"):  # queued while a1 is on the network
        await asyncio.to_thread(outbox.enqueue, to_chat("a", text))
    sender.gate.set()
    for _ in range(1000):  # up to 10 s on a loaded machine; ends as soon as it happened
        if len(sent) == 3:
            break
        await asyncio.sleep(0.01)
    await asyncio.to_thread(outbox.enqueue, to_chat("a", "a4"))  # the chat's drain has ended: a new one starts
    for _ in range(1000):  # up to 10 s on a loaded machine; ends as soon as it happened
        if len(sent) == 4:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert sent == ["a1", "a2", "a3", "a4"] and sender.most_in_flight == 1


async def test_a_reply_taken_with_the_transaction_that_stored_it_is_sent_or_given_back_never_held(database):
    clock, sender, stop = Clock(), PerChatSender(), asyncio.Event()
    outbox = Outbox(database, {"telegram": sender}, RetryPolicy(claim_seconds=120), clock=clock)
    running = asyncio.create_task(outbox.run(stop, idle_seconds=3600))
    await asyncio.sleep(0.05)

    def store_and_take(text: str):
        """As the engine does: the reply stored and its chat's head taken in one transaction."""
        row = outbox_row(to_chat("a", text), now=clock())
        take = outbox.head_taker(("telegram", "a"))
        with database.session() as session:
            session.add(row)
            session.flush()
            return take(session.connection())

    first = await asyncio.to_thread(store_and_take, "a1")
    outbox.send_taken(("telegram", "a"), first)
    for _ in range(1000):  # up to 10 s on a loaded machine; ends as soon as it happened
        if sender.sent:
            break
        await asyncio.sleep(0.01)
    assert texts_for(sender, "a") == ["a1"]
    for _ in range(1000):  # sent, then marked: until then a1 is still the chat's head
        if (await asyncio.to_thread(outbox.get, first.id)).status == OutboxStatus.DELIVERED:
            break
        await asyncio.sleep(0.01)

    taken = await asyncio.to_thread(store_and_take, "a2")
    stop.set()
    await running
    outbox.send_taken(("telegram", "a"), taken)  # the outbox stopped meanwhile: it gives the row back
    for _ in range(1000):
        await asyncio.sleep(0.01)
        if (await asyncio.to_thread(outbox.get, taken.id)).next_attempt_at <= clock():
            break
    assert await Outbox(database, {"telegram": sender}, clock=clock).deliver_due() == 1  # not 120 s later
    assert texts_for(sender, "a") == ["a1", "a2"]


def test_outbox_list_and_retry_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path))
    db = Database(f"sqlite:///{tmp_path / 'warmdesk.db'}")
    db.migrate()
    outbox = Outbox(db, {"telegram": ScriptedSender(DeliveryError("403 blocked", permanent=True))})
    failed = outbox.enqueue(to_chat("a", "one"))
    asyncio.run(outbox.deliver_due())
    capsys.readouterr()

    assert run.main(["outbox", "list", "--status", "failed"]) == 0
    listed = capsys.readouterr().out
    assert f"#{failed}" in listed and "403 blocked" in listed

    assert run.main(["outbox", "retry", str(failed)]) == 0
    assert "re-queued 1 message" in capsys.readouterr().out
    assert outbox.get(failed).status == OutboxStatus.PENDING


def test_outbox_command_mistakes_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WARMDESK_DATA_DIR", str(tmp_path))
    for argv in (
        ["outbox", "retry"],
        ["outbox", "retry", "abc"],
        ["outbox", "retry", "99"],
        ["outbox", "retry", "1", "--all-failed"],
        ["outbox", "list", "--status", "lost"],
        ["outbox", "list", "--limit", "0"],
    ):
        assert run.main(argv) == 2, argv
        error = capsys.readouterr().err
        assert error.startswith("error: ") and error.count("\n") == 1, (argv, error)
