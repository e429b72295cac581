"""The messaging channels configured in the settings (Telegram, WeChat), opened together for the web app."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from fastapi import APIRouter

from adapters.telegram import TelegramChannel
from adapters.wechat import WeChatChannel
from storage.nonces import NonceStore


@dataclass
class Channels:
    telegram: TelegramChannel | None = None
    wechat: WeChatChannel | None = None
    _polling: asyncio.Task | None = field(default=None, repr=False)

    @classmethod
    def open(cls, runtime) -> Channels:
        """Each channel whose settings are present, with its sender registered on the runtime's outbox."""
        settings = runtime.settings
        return cls(
            telegram=TelegramChannel.from_settings(settings, runtime.engine, runtime.outbox),
            wechat=WeChatChannel.from_settings(settings, runtime.engine, runtime.outbox, NonceStore(runtime.db)),
        )

    def routers(self) -> list[APIRouter]:
        return [channel.router() for channel in (self.telegram, self.wechat) if channel is not None]

    async def start(self, telegram_polling: bool = False) -> None:
        if telegram_polling:
            if self.telegram is None:
                raise RuntimeError("--telegram-polling needs TELEGRAM_BOT_TOKEN")
            self._polling = asyncio.create_task(self.telegram.poll())

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._polling
        if self.telegram is not None:
            await self.telegram.close()
