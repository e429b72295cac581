"""Terminal chat as a customer: type, read the bot's replies, pick offered choices by number.

What arrives later (a person from the team joining, their replies, the rating request) goes through the outbox
like on every platform; the terminal reads it from the outbox as its mailbox (the same rows the web page polls),
so it appears while you wait at the prompt, also when the agent works in another process (`run.py serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from typing import TextIO

from adapters.webchat_mailbox import WebChatMailbox
from bot.engine import Engine
from bot.messages import Choice, InboundMessage

PLATFORM = "console"
QUIT_WORDS = {"/quit", "/exit", "quit", "exit", "退出"}
POLL_SECONDS = 1.0


class TerminalScreen:
    """Everything the terminal prints, and the choices the newest message offers (numbers stand for buttons)."""

    def __init__(self, stdout: TextIO) -> None:
        self._stdout = stdout
        self.offered: list[Choice] = []

    def say(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def prompt(self) -> None:
        self._stdout.write("you> ")
        self._stdout.flush()

    def message(self, who: str, text: str, choices: list[Choice]) -> None:
        self.say(f"{who}> {text}")
        for index, choice in enumerate(choices, 1):
            self.say(f"     {index}. {choice.label}")
        self.offered = list(choices)


async def chat_in_terminal(
    engine: Engine,
    customer: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    mailbox: WebChatMailbox | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    screen = TerminalScreen(stdout)
    screen.say(f"bot> {engine.welcome()}")
    screen.say("(type /quit to leave)")
    cursor = _start_cursor(mailbox, customer)
    lock = asyncio.Lock()

    async def show_updates() -> None:
        nonlocal cursor
        if mailbox is None:
            return
        async with lock:
            rows = await asyncio.to_thread(mailbox.updates, customer, cursor)
            for row in rows:
                who = "agent" if row.kind == "agent" else "bot"
                screen.message(who, row.text, [Choice(c["id"], c["label"]) for c in row.choices or []])
                cursor = row.id
            if rows:
                screen.prompt()

    async def keep_polling() -> None:
        while True:
            await asyncio.sleep(poll_seconds)
            await show_updates()

    poller = asyncio.create_task(keep_polling())
    try:
        for number in itertools.count(1):
            screen.prompt()
            line = await asyncio.to_thread(stdin.readline)
            if not line or line.strip() in QUIT_WORDS:
                return
            text = line.rstrip("\n")
            choice = _picked(text, screen.offered)
            reply = await engine.handle(
                InboundMessage(
                    platform=PLATFORM,
                    platform_user_id=customer,
                    chat_id=customer,
                    display_name=customer,
                    message_id=None,
                    text=choice.label if choice else text,
                    choice_id=choice.id if choice else None,
                    metadata={"turn": number},
                )
            )
            screen.offered = []
            for outbound in reply.replies:
                screen.message("bot", outbound.text, list(outbound.choices))
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller


def _start_cursor(mailbox: WebChatMailbox | None, customer: str) -> int:
    """Messages from before this session were shown (or not) then; only new ones appear."""
    if mailbox is None:
        return 0
    history = mailbox.history(customer)
    return history.cursor if history else 0


def _picked(text: str, offered: list[Choice]) -> Choice | None:
    """Numbers stand in for buttons, which a terminal does not have."""
    text = text.strip()
    if offered and text.isdigit() and 1 <= int(text) <= len(offered):
        return offered[int(text) - 1]
    return None
