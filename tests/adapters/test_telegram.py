"""Telegram end to end: the real app and the real python-telegram-bot SDK, against a fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select
from telegram import Bot

from adapters.telegram import SECRET_HEADER, TelegramChannel
from adapters.telegram_sender import TelegramSender
from bot.messages import Choice, OutboundMessage
from bot.outbox import Outbox
from bot.runtime import Runtime
from bot.settings import Settings
from bot.texts import DEFAULT_TEXTS
from storage.models import Message, OutboxMessage, OutboxStatus
from tests.adapters.conftest import LiveServer
from tests.adapters.telegram_fake import (
    TOKEN,
    WEBHOOK_SECRET,
    callback_update,
    photo_update,
    text_update,
)
from tests.bot.test_outbox import Clock

say = DEFAULT_TEXTS.say


@pytest.fixture(scope="module")
def settings(tmp_path_factory, fake_telegram) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("telegram-data"),
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=fake_telegram.url,
        knowledge_recheck_seconds=0,
    )


@pytest.fixture(scope="module")
def runtime(settings) -> Iterator[Runtime]:
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def server(runtime, fake_telegram) -> Iterator[LiveServer]:
    fake_telegram.reset()
    server = LiveServer(runtime)
    server.start()
    yield server
    server.stop()


def post_update(server: LiveServer, update: dict | bytes, secret: str | None = WEBHOOK_SECRET) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers["content-type"] = "application/json"
    return httpx.post(f"{server.url}/telegram/webhook", content=body, headers=headers, timeout=30)


def logged(runtime: Runtime, update_id: int) -> list[Message]:
    with runtime.db.session() as session:
        return list(session.exec(select(Message).where(Message.platform_message_id == str(update_id))).all())


def test_a_text_message_is_answered_through_the_outbox(server, runtime, fake_telegram):
    update = text_update("How do I track my order?", user_id=101)
    assert post_update(server, update).status_code == 200

    [sent] = fake_telegram.wait_for_sent(1)
    assert sent["chat_id"] == 101 and "订单" not in sent["text"] and len(sent["text"]) > 20
    [inbound] = logged(runtime, update["update_id"])
    assert inbound.text == "How do I track my order?" and inbound.decision == "answer"


@pytest.mark.parametrize("secret", [None, "wrong", ""])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_logged(server, runtime, fake_telegram, secret):
    update = text_update("hello", user_id=102)
    assert post_update(server, update, secret=secret).status_code == 403
    assert logged(runtime, update["update_id"]) == []
    assert fake_telegram.sent == []


def test_the_same_update_three_times_gives_one_message_and_one_answer(server, runtime, fake_telegram):
    update = text_update("运费怎么算？", user_id=103, language_code="zh")

    async def deliver_three_times_at_once() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            calls = [client.post(f"{server.url}/telegram/webhook", json=update, headers=headers) for _ in range(3)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(deliver_three_times_at_once()) == [200, 200, 200]
    assert post_update(server, update).status_code == 200  # and once more, later

    fake_telegram.wait_for_sent(1)
    assert len(logged(runtime, update["update_id"])) == 1
    with runtime.db.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.platform_user_id == "103")).all()
    assert len(rows) == 1
    assert len(fake_telegram.sent) == 1


def test_start_sends_the_welcome_and_privacy_notice_in_the_users_language(server, runtime, fake_telegram):
    update = text_update("/start", user_id=104, language_code="zh-hans")
    assert post_update(server, update).status_code == 200
    assert post_update(server, update).status_code == 200  # Telegram's retry

    texts = [m["text"] for m in fake_telegram.wait_for_sent(2)]
    assert texts == [runtime.engine.welcome("zh"), say("privacy_notice", "zh")]
    [opened] = logged(runtime, update["update_id"])
    assert (opened.text, opened.decision) == ("/start", "start")  # in the customer's history like any message
    with runtime.db.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.platform_user_id == "104")).all()
    assert len(rows) == 2


def test_a_photo_gets_the_text_only_notice_and_is_logged(server, runtime, fake_telegram):
    update = photo_update(user_id=105, language_code="zh")
    assert post_update(server, update).status_code == 200

    [sent] = fake_telegram.wait_for_sent(1)
    assert sent["text"] == say("non_text", "zh")
    [inbound] = logged(runtime, update["update_id"])
    assert (inbound.decision, inbound.content_type, inbound.shown_text) == ("non_text", "photo", "[photo]")


def test_a_pressed_button_answers_that_faq_and_stops_the_spinner(server, runtime, fake_telegram):
    update = callback_update("faq:shipping_costs", "How much is shipping?", user_id=106)
    assert post_update(server, update).status_code == 200

    [sent] = fake_telegram.wait_for_sent(1)
    assert sent["chat_id"] == 106
    [inbound] = logged(runtime, update["update_id"])
    assert (inbound.text, inbound.faq_id) == ("How much is shipping?", "shipping_costs")
    assert fake_telegram.callback_answers == [update["callback_query"]["id"]]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"message": {}}', b'["update_id"]', b'{"update_id": "7"}', b"\xff\xfe{}", b""],
)
def test_malformed_updates_are_refused_and_the_server_keeps_serving(server, fake_telegram, body):
    assert post_update(server, body).status_code == 400
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert post_update(server, text_update("hi", user_id=107)).status_code == 200


def _without_chat() -> dict:
    update = text_update("hi", user_id=110)
    del update["message"]["chat"]
    return update


def _number_as_text() -> dict:
    update = text_update("hi", user_id=110)
    update["message"]["text"] = 12345
    return update


def _button_without_user() -> dict:
    update = callback_update("faq:shipping_costs", "How much is shipping?", user_id=110)
    del update["callback_query"]["from"]
    return update


@pytest.mark.parametrize("make_update", [_without_chat, _number_as_text, _button_without_user])
def test_updates_with_fields_of_the_wrong_type_are_refused_and_nothing_is_logged(
    server, runtime, fake_telegram, make_update
):
    update = make_update()
    response = post_update(server, update)
    assert response.status_code == 400 and "malformed update" in response.text
    assert logged(runtime, update["update_id"]) == []
    assert post_update(server, text_update("hi", user_id=110)).status_code == 200


def test_text_with_a_lone_surrogate_is_answered_and_logged_with_a_replacement_character(server, runtime, fake_telegram):
    update = text_update("\ud800 how do I track my order?", user_id=111)
    assert post_update(server, update).status_code == 200  # json.dumps writes the surrogate as "\\ud800"

    fake_telegram.wait_for_sent(1)
    [inbound] = logged(runtime, update["update_id"])
    assert inbound.text == "\ufffd how do I track my order?"


def test_an_oversized_update_is_refused(server):
    huge = text_update("x" * 300_000, user_id=108)
    assert post_update(server, huge).status_code == 413


def test_updates_the_bot_does_not_answer_are_acknowledged(server, fake_telegram):
    group = text_update("hi all", user_id=109)
    group["message"]["chat"]["type"] = "group"
    edited = {"update_id": 999_001, "edited_message": text_update("x", user_id=109)["message"]}
    assert post_update(server, group).status_code == 200
    assert post_update(server, edited).status_code == 200
    assert fake_telegram.sent == []


# Sending: the real SDK against the fake API, the outbox with its injectable clock (no waiting on wall time).


@pytest.fixture
def bot(fake_telegram) -> Bot:
    fake_telegram.reset()
    return Bot(TOKEN, base_url=f"{fake_telegram.url}/bot")


def outbound(text: str = "Your refund is on its way.", choices: list[Choice] | None = None) -> OutboundMessage:
    return OutboundMessage("telegram", "201", text, "en", chat_id="201", choices=choices or [], kind="agent")


async def test_choices_become_an_inline_keyboard(runtime, bot, fake_telegram):
    rating = [Choice(f"rate:{n}", str(n)) for n in range(1, 6)]
    await TelegramSender(bot).send(outbound("How did we do?", rating))
    [sent] = fake_telegram.sent
    [row] = sent["reply_markup"]["inline_keyboard"]
    assert [(b["text"], b["callback_data"]) for b in row] == [(str(n), f"rate:{n}") for n in range(1, 6)]


async def test_a_server_error_is_retried_and_delivered_once(runtime, bot, fake_telegram):
    clock = Clock()
    outbox = Outbox(runtime.db, {"telegram": TelegramSender(bot)}, clock=clock)
    fake_telegram.fail_next(500, "Internal Server Error")
    row_id = outbox.enqueue(outbound())

    assert await outbox.deliver_due() == 0
    assert "Internal Server Error" in outbox.get(row_id).last_error
    clock.advance(1)
    assert await outbox.deliver_due() == 1
    assert await outbox.deliver_due() == 0
    assert [m["text"] for m in fake_telegram.sent] == ["Your refund is on its way."]


async def test_429_waits_for_retry_after_then_delivers(runtime, bot, fake_telegram):
    clock = Clock()
    outbox = Outbox(runtime.db, {"telegram": TelegramSender(bot)}, clock=clock)
    fake_telegram.fail_next(429, "Too Many Requests: retry after 30", retry_after=30)
    row_id = outbox.enqueue(outbound())

    assert await outbox.deliver_due() == 0
    clock.advance(29)
    assert await outbox.deliver_due() == 0 and fake_telegram.sent == []
    clock.advance(1)
    assert await outbox.deliver_due() == 1
    assert outbox.get(row_id).status == OutboxStatus.DELIVERED and len(fake_telegram.sent) == 1


async def test_a_blocked_bot_fails_for_good_with_the_platforms_error(runtime, bot, fake_telegram):
    outbox = Outbox(runtime.db, {"telegram": TelegramSender(bot)}, clock=Clock())
    fake_telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    row_id = outbox.enqueue(outbound())

    await outbox.deliver_due()
    row = outbox.get(row_id)
    assert row.status == OutboxStatus.FAILED and "blocked by the user" in row.last_error


def test_pending_outbox_rows_are_delivered_after_a_restart(settings, runtime, fake_telegram):
    fake_telegram.reset()
    runtime.outbox.enqueue(outbound("Queued while the server was down."), dedup_key="restart-test")

    restarted = Runtime.open(settings)  # a fresh process would do the same: same database, new everything
    server = LiveServer(restarted)
    server.start()
    try:
        [sent] = fake_telegram.wait_for_sent(1)
        assert sent["text"] == "Queued while the server was down."
    finally:
        server.stop()
        restarted.close()


async def test_long_polling_answers_updates(runtime, fake_telegram):
    fake_telegram.reset()
    bot = Bot(TOKEN, base_url=f"{fake_telegram.url}/bot")
    outbox = Outbox(runtime.db)
    channel = TelegramChannel(bot, runtime.engine, outbox, webhook_secret=None)
    fake_telegram.updates.append(text_update("/start", user_id=301, language_code="en"))
    polling = asyncio.create_task(channel.poll())
    try:
        for _ in range(200):
            await outbox.deliver_due()
            if len(fake_telegram.sent) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        polling.cancel()
        await channel.close()
    assert fake_telegram.webhook_deleted
    assert [m["text"] for m in fake_telegram.sent] == [runtime.engine.welcome("en"), say("privacy_notice", "en")]


async def test_a_bot_api_slower_than_five_seconds_gets_each_message_once(runtime, settings, fake_telegram):
    fake_telegram.reset()
    channel = TelegramChannel.from_settings(settings, runtime.engine, Outbox(runtime.db))
    outbox = Outbox(runtime.db, {"telegram": TelegramSender(channel.bot)}, clock=Clock())
    fake_telegram.send_delay_seconds = 5.5  # the old 5 s read timeout gave up here and the outbox sent it again
    row_id = outbox.enqueue(outbound("slow but there"))
    try:
        assert await outbox.deliver_due() == 1
    finally:
        await channel.close()
    assert [m["text"] for m in fake_telegram.sent] == ["slow but there"] and outbox.get(row_id).attempts == 1
