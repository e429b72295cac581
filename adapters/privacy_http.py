"""The data-rights pieces of the HTTP app: the one-time export download, the Telegram export as a file, the
access-log filter that keeps signed query strings and ids out of the log, and the periodic housekeeping."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.telegram_sender import TelegramSender
from bot.messages import OutboundMessage
from bot.outbox import DeliveryError, Sender
from bot.privacy import housekeeping
from bot.privacy.retention import purge_expired
from bot.privacy.stage import EXPORT_PATH, DataRights, PrivacyDecision

ACCESS_LOGGER = "uvicorn.access"
_TOKEN_PATH = re.compile(re.escape(EXPORT_PATH) + r"[^/?\s]+")


class RedactedAccessLog(logging.Filter):
    """uvicorn's access log line without query strings (WeChat's signature, timestamp, nonce and openid; web chat
    session ids) and without export tokens in paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = redact_path(args[2])
            record.args = tuple(args)
        return True


def redact_path(path: str) -> str:
    path, question, _query = path.partition("?")
    path = _TOKEN_PATH.sub(EXPORT_PATH + "[redacted]", path)
    return path + ("?[redacted]" if question else "")


def install_access_log_filter() -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactedAccessLog) for f in logger.filters):
        logger.addFilter(RedactedAccessLog())


def privacy_router(rights: DataRights) -> APIRouter:
    router = APIRouter()

    @router.get(EXPORT_PATH + "{token}", include_in_schema=False)
    async def download(token: str) -> Response:
        found = await asyncio.to_thread(rights.export_by_link, token) if len(token) <= 100 else None
        if found is None:
            text = "\n".join(rights.texts.say("privacy_link_invalid", language) for language in rights.texts.languages)
            return PlainTextResponse(text, status_code=404, headers={"Cache-Control": "no-store"})
        name, data = found
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
        return Response(data, media_type="application/json", headers=headers)

    return router


class TelegramExportSender:
    """Telegram's sender, plus the export: a message of kind `data_export` goes out as a JSON document built at
    send time (nothing extra is stored), everything else as before."""

    def __init__(self, inner: Sender, bot: Bot, document: Callable[[str, str], tuple[str, bytes] | None]) -> None:
        self._inner = inner
        self._bot = bot
        self._document = document

    async def send(self, message: OutboundMessage) -> str | None:
        if message.kind != PrivacyDecision.EXPORT:
            return await self._inner.send(message)
        found = await asyncio.to_thread(self._document, message.platform, message.platform_user_id)
        if found is None:  # deleted meanwhile: nothing left to send
            return None
        name, data = found
        try:
            sent = await self._bot.send_document(
                chat_id=message.chat_id or message.platform_user_id,
                document=InputFile(data, filename=name),
                caption=message.text,
            )
        except (Forbidden, BadRequest) as error:
            raise DeliveryError(f"telegram: {error.__class__.__name__}: {error}", permanent=True) from error
        except TelegramError as error:
            raise DeliveryError(f"telegram: {error.__class__.__name__}: {error}") from error
        return str(sent.message_id)


@dataclass
class PrivacyHttp:
    rights: DataRights | None
    router: APIRouter | None
    runtime: object

    @classmethod
    def open(cls, runtime, channels) -> PrivacyHttp:
        install_access_log_filter()
        rights = runtime.engine.privacy
        if rights is None:
            return cls(None, None, runtime)
        if channels.telegram is not None:
            platform = "telegram"
            bot = channels.telegram.bot
            runtime.outbox.add_sender(platform, TelegramExportSender(TelegramSender(bot), bot, rights.export_document))
            rights.file_platforms.add(platform)
        return cls(rights, privacy_router(rights), runtime)

    async def watch(self, stop: asyncio.Event) -> None:
        if self.rights is None:
            return
        install_access_log_filter()  # again: uvicorn configures its loggers after the app is built
        settings = self.runtime.settings
        days = settings.retention_days
        purge = (lambda now: purge_expired(self.runtime.db, now, days)) if days else None
        await housekeeping.watch(
            stop,
            self.runtime.db,
            self.rights.store,
            settings.privacy_check_seconds,
            purge,
            link_minutes=self.rights.rules.export_link_minutes,
        )
