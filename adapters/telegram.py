"""Telegram: webhook (`POST /telegram/webhook`) or long polling in, the engine in between, the outbox out."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging

from fastapi import APIRouter, Request, Response
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from adapters.telegram_messages import PLATFORM, MalformedUpdate, inbound_from_update, is_start_command
from adapters.telegram_sender import TelegramSender
from bot.deadline import within
from bot.engine import Engine
from bot.outbox import Outbox
from bot.settings import Settings

log = logging.getLogger("warmdesk.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLL_TIMEOUT_SECONDS = 25
POLL_ERROR_PAUSE_SECONDS = 3.0
MAX_FAILURES_PER_UPDATE = 3
ANSWERED_UPDATES = ["message", "callback_query"]
# PTB's 5 s read timeout is shorter than a slow Bot API answer: the message arrived, timed out here, was sent
# again by the outbox (9 sends of 2 replies). A read that times out is retried, so it must be rare.
SEND_READ_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10.0
SEND_CONNECTIONS = 32  # above the outbox's parallel sends per platform


class TelegramChannel:
    def __init__(
        self, bot: Bot, engine: Engine, outbox: Outbox, webhook_secret: str | None, deadline: float | None = None
    ) -> None:
        self.bot = bot
        self.deadline = deadline  # past it the webhook answers 503 and Telegram sends the update again later
        self._engine = engine
        self._outbox = outbox
        self._secret = webhook_secret.encode() if webhook_secret else None
        self._background: set[asyncio.Task] = set()
        outbox.add_sender(PLATFORM, TelegramSender(bot))

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, outbox: Outbox) -> TelegramChannel | None:
        if not settings.telegram_bot_token:
            return None
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        bot = Bot(
            settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url.rstrip("/") + "/bot",
            request=HTTPXRequest(
                connection_pool_size=SEND_CONNECTIONS,
                read_timeout=SEND_READ_TIMEOUT_SECONDS,
                write_timeout=SEND_READ_TIMEOUT_SECONDS,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                pool_timeout=CONNECT_TIMEOUT_SECONDS,
            ),
        )
        return cls(bot, engine, outbox, settings.telegram_webhook_secret, settings.reply_deadline_seconds)

    async def handle_update(self, update: Update) -> None:
        """Answer one update; the same update delivered again logs and answers nothing more."""
        if update.callback_query is not None:
            self._in_background(self._acknowledge(update.callback_query.id))
        inbound = inbound_from_update(update)
        if inbound is None:
            return
        if is_start_command(inbound):
            await self._engine.chat_event(inbound, "start", queue_replies=True)
            return
        await self._engine.handle(inbound, queue_replies=True)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/telegram/webhook", include_in_schema=False)
        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if self._secret is None or not hmac.compare_digest(given, self._secret):
                return Response(status_code=403)
            update = _parse_update(await request.body(), self.bot)
            if update is None:
                return Response("malformed update", status_code=400)
            try:
                await within(self.deadline, self.handle_update(update))
            except MalformedUpdate as error:
                return Response(f"malformed update: {error}", status_code=400)
            return Response(status_code=200)

        return router

    async def poll(self) -> None:
        """Long polling for development; runs until cancelled."""
        await self.bot.delete_webhook()
        offset, failures = None, {}
        log.info("telegram long polling started")
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ANSWERED_UPDATES
                )
            except TelegramError as error:
                log.warning("telegram getUpdates failed (%s); retrying", error)
                await asyncio.sleep(POLL_ERROR_PAUSE_SECONDS)
                continue
            for update in updates:
                try:
                    await self.handle_update(update)
                except Exception:
                    failures[update.update_id] = failures.get(update.update_id, 0) + 1
                    if failures[update.update_id] < MAX_FAILURES_PER_UPDATE:
                        log.exception("telegram update %s failed; fetching it again", update.update_id)
                        await asyncio.sleep(POLL_ERROR_PAUSE_SECONDS)
                        break
                    log.exception(
                        "telegram update %s failed %d times; skipping it", update.update_id, MAX_FAILURES_PER_UPDATE
                    )
                offset = update.update_id + 1
                failures.pop(update.update_id, None)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.bot.shutdown()

    async def _acknowledge(self, callback_query_id: str) -> None:
        """Stops the spinner on the pressed button; the answer itself goes through the outbox."""
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError as error:
            log.info("answerCallbackQuery failed: %s", error)

    def _in_background(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _parse_update(body: bytes, bot: Bot) -> Update | None:
    try:
        data = json.loads(body)
    except ValueError:  # also invalid UTF-8
        return None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        return Update.de_json(data, bot)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
