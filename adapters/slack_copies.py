"""Deleting what Warmdesk posted in Slack about a customer whose data is deleted: each handoff card and the bot's
own messages in its thread (customer messages mirrored there, notices, summaries), and relationship care's staff
notices about them (DMs and channel posts, by their stored address), with `chat.delete`.

Slack lets a bot token delete only the bot's own messages; what people typed in the thread stays and is counted
as kept, so the customer's receipt says so. The thread is read with `conversations.replies` (the
`channels:history` scope the desk already needs); the card itself goes last, so no reply is left without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.privacy.copies import CopiesRemoved

log = logging.getLogger("warmdesk.slack")
GONE = ("message_not_found", "thread_not_found", "channel_not_found")
BUDGET_SECONDS = 20.0  # the customer waits for their receipt meanwhile; what is left after this is reported kept


class SlackCopies:
    def __init__(self, client: AsyncWebClient, budget_seconds: float = BUDGET_SECONDS) -> None:
        self.client = client
        self.budget = budget_seconds

    def remove(self, threads: list[tuple[str, str]]) -> CopiesRemoved:
        # Called from a worker thread; the client makes a new HTTP session per call, so a loop of its own is fine.
        with ThreadPoolExecutor(1, "warmdesk-slack-delete") as pool:
            return pool.submit(asyncio.run, self._remove(threads)).result()

    def remove_messages(self, messages: list[tuple[str, str]]) -> CopiesRemoved:
        with ThreadPoolExecutor(1, "warmdesk-slack-delete") as pool:
            return pool.submit(asyncio.run, self._remove_messages(messages)).result()

    async def _remove_messages(self, messages: list[tuple[str, str]]) -> CopiesRemoved:
        """Staff notices: each one message of the bot's own (a DM or a channel post), deleted by its address."""
        deadline = time.monotonic() + self.budget
        removed = kept = 0
        for index, (channel, ts) in enumerate(messages):
            if time.monotonic() > deadline:
                return CopiesRemoved(removed, kept + len(messages) - index)
            try:
                await self.client.chat_delete(channel=channel, ts=ts)
                removed += 1
            except SlackApiError as error:
                if error.response.get("error") not in GONE:
                    log.warning("slack: chat.delete of a staff notice refused (%s)", error.response.get("error"))
                    kept += 1
        return CopiesRemoved(removed, kept)

    async def _remove(self, threads: list[tuple[str, str]]) -> CopiesRemoved:
        deadline = time.monotonic() + self.budget
        me = await self.client.auth_test()
        ours = {me.get("user_id"), me.get("bot_id")} - {None}
        total = CopiesRemoved()
        for index, (channel, card) in enumerate(threads):
            if time.monotonic() > deadline:
                return total + CopiesRemoved(kept=len(threads) - index)
            total += await self._thread(channel, card, ours)
        return total

    async def _thread(self, channel: str, card: str, ours: set[str]) -> CopiesRemoved:
        try:
            messages = await self._messages(channel, card)
        except SlackApiError as error:
            if error.response.get("error") in GONE:
                return CopiesRemoved()
            log.warning("slack: could not read a deleted customer's thread (%s)", error.response.get("error"))
            messages = [{"ts": card, "user": next(iter(ours), None)}]  # at least the card, which is ours
        removed = kept = 0
        for message in sorted(messages, key=lambda m: m["ts"] == card):  # replies first, the card last
            if not ({message.get("user"), message.get("bot_id")} & ours):
                kept += 1  # typed by a person: a bot token cannot delete it
                continue
            try:
                await self.client.chat_delete(channel=channel, ts=message["ts"])
                removed += 1
            except SlackApiError as error:
                if error.response.get("error") not in GONE:
                    log.warning("slack: chat.delete refused (%s)", error.response.get("error"))
                    kept += 1
        return CopiesRemoved(removed, kept)

    async def _messages(self, channel: str, card: str) -> list[dict]:
        messages: list[dict] = []
        async for page in await self.client.conversations_replies(channel=channel, ts=card, limit=200):
            messages.extend(page.get("messages") or [])  # slack_sdk follows next_cursor page by page
        return messages
