"""One customer on one channel, driven through the real adapter over HTTP: what they say, what reaches them.

Web chat answers in the HTTP response; Telegram's answers go through the outbox to the fake Bot API; WeChat's
come back passively in the HTTP response or, when slow, through the outbox to the fake customer-service API.
`say` returns every text that reached the customer for that message, once all of it was delivered."""

from __future__ import annotations

import itertools
import uuid

from sqlmodel import select

from bot.runtime import Runtime
from storage.models import Identity, OutboxMessage, OutboxStatus
from tests.adapters.telegram_fake import FakeTelegram, callback_update
from tests.adapters.wechat_fake import FakeWeChatApi
from tests.privacy.helpers import telegram_post, telegram_update, wait_until, web_say, wechat_say

_numbers = itertools.count(1)


class Customer:
    platform = ""

    def __init__(self, url: str, runtime: Runtime, language: str) -> None:
        self.url, self.runtime, self.language = url, runtime, language
        self.user = ""

    def say(self, text: str, message_id: str | None = None) -> list[str]:
        raise NotImplementedError

    def press(self, choice_id: str, label: str) -> list[str]:
        raise NotImplementedError

    def customer_id(self) -> int | None:
        with self.runtime.db.session() as session:
            return session.exec(
                select(Identity.customer_id).where(
                    Identity.platform == self.platform, Identity.platform_user_id == self.user
                )
            ).first()

    def _delivered(self) -> bool:
        with self.runtime.db.session() as session:
            pending = session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.platform == self.platform,
                    OutboxMessage.platform_user_id == self.user,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
            ).first()
        return pending is None


class WebCustomer(Customer):
    platform = "web"

    def __init__(self, url: str, runtime: Runtime, language: str, notice_version: str | None = None) -> None:
        super().__init__(url, runtime, language)
        self.user = f"web{language}{uuid.uuid4().hex[:16]}"
        self.notice_version = notice_version
        self.last: list[dict] = []

    def say(self, text: str, message_id: str | None = None, choice_id: str | None = None) -> list[str]:
        extra = {"language": self.language}
        if self.notice_version:
            extra["notice_version"] = self.notice_version
        if choice_id:
            extra["choice_id"] = choice_id
        self.last = web_say(self.url, self.user, text, message_id, **extra)["replies"]
        return [reply["text"] for reply in self.last]

    def press(self, choice_id: str, label: str) -> list[str]:
        return self.say(label, choice_id=choice_id)


class TelegramCustomer(Customer):
    platform = "telegram"

    def __init__(self, url: str, runtime: Runtime, language: str, fake: FakeTelegram) -> None:
        super().__init__(url, runtime, language)
        self.chat = 7_700_000_000 + next(_numbers)
        self.user = str(self.chat)
        self.fake = fake
        self._updates: dict[str, dict] = {}

    def say(self, text: str, message_id: str | None = None) -> list[str]:
        if message_id is not None and message_id in self._updates:
            update = self._updates[message_id]  # Telegram delivers the same update again
        else:
            update = telegram_update(text, self.chat, "Ada", self.language)
            self._updates[message_id or str(update["update_id"])] = update
        return self._post(update)

    def press(self, choice_id: str, label: str) -> list[str]:
        return self._post(callback_update(choice_id, label, user_id=self.chat, language_code=self.language))

    def _post(self, update: dict) -> list[str]:
        before = len(self.texts())
        telegram_post(self.url, update)
        wait_until(self._delivered, what="telegram deliveries")
        return self.texts()[before:]

    def texts(self) -> list[str]:
        return [m["text"] for m in self.fake.sent if str(m["chat_id"]) == self.user]

    def documents(self) -> list[dict]:
        return [d for d in self.fake.documents if d["chat_id"] == self.user]


class WeChatCustomer(Customer):
    platform = "wechat"

    def __init__(self, url: str, runtime: Runtime, language: str, fake: FakeWeChatApi) -> None:
        super().__init__(url, runtime, language)
        self.user = f"oMx{language}{uuid.uuid4().hex[:20]}"
        self.fake = fake
        self._ids: dict[str, str] = {}

    def say(self, text: str, message_id: str | None = None) -> list[str]:
        msg_id = self._ids.setdefault(message_id, str(next(_numbers) + 10**15)) if message_id else None
        before = len(self.later())
        passive = wechat_say(self.url, self.user, text, msg_id)
        wait_until(self._delivered, what="wechat deliveries")
        return ([passive] if passive else []) + self.later()[before:]

    def press(self, choice_id: str, label: str) -> list[str]:
        raise NotImplementedError("WeChat menus answer with a text message: say the label")

    def later(self) -> list[str]:
        return [m["text"]["content"] for m in self.fake.sent if m["touser"] == self.user and "text" in m]
