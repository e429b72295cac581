"""Delivering outbox messages through the Telegram Bot API, with the API's errors mapped to DeliveryError."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError

from adapters.telegram_messages import keyboard
from bot.messages import OutboundMessage
from bot.outbox import DeliveryError

MAX_MESSAGE_CHARS = 4096  # Bot API limit for one text message


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutboundMessage) -> str | None:
        chat_id = message.chat_id or message.platform_user_id
        chunks = _chunks(message.text)
        sent_id = None
        try:
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                sent = await self._bot.send_message(
                    chat_id=chat_id, text=chunk, reply_markup=keyboard(message.choices) if last else None
                )
                sent_id = str(sent.message_id)
        except RetryAfter as error:
            raise DeliveryError(f"telegram: {error}", retry_after=_seconds(error)) from error
        except (Forbidden, BadRequest, InvalidToken, ChatMigrated) as error:
            # Blocked by the user, unknown chat, bad token: retrying will not help.
            raise DeliveryError(f"telegram: {error.__class__.__name__}: {error}", permanent=True) from error
        except TelegramError as error:  # NetworkError, TimedOut, 5xx
            raise DeliveryError(f"telegram: {error.__class__.__name__}: {error}") from error
        return sent_id


def _chunks(text: str) -> list[str]:
    text = text or " "
    return [text[start : start + MAX_MESSAGE_CHARS] for start in range(0, len(text), MAX_MESSAGE_CHARS)]


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that retry_after will become a timedelta; accept either
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
