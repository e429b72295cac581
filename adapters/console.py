"""Terminal chat as a customer: type, read the bot's replies, pick offered choices by number."""

from __future__ import annotations

import asyncio
import itertools
import sys
from typing import TextIO

from bot.engine import Engine
from bot.messages import Choice, InboundMessage

PLATFORM = "console"
QUIT_WORDS = {"/quit", "/exit", "quit", "exit", "退出"}


async def chat_in_terminal(
    engine: Engine, customer: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    say(f"bot> {engine.welcome()}")
    say("(type /quit to leave)")
    offered: list[Choice] = []
    for number in itertools.count(1):
        stdout.write("you> ")
        stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip() in QUIT_WORDS:
            return
        text = line.rstrip("\n")
        choice = _picked(text, offered)
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
        offered = []
        for outbound in reply.replies:
            say(f"bot> {outbound.text}")
            for index, offered_choice in enumerate(outbound.choices, 1):
                say(f"     {index}. {offered_choice.label}")
            offered = list(outbound.choices)


def _picked(text: str, offered: list[Choice]) -> Choice | None:
    """Numbers stand in for buttons, which a terminal does not have."""
    text = text.strip()
    if offered and text.isdigit() and 1 <= int(text) <= len(offered):
        return offered[int(text) - 1]
    return None
