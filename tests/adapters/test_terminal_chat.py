"""`run.py chat`: what a person from the team sends (joining, replies, the rating request) appears in the
terminal while the customer waits at the prompt, and the rating is picked by number."""

from __future__ import annotations

import asyncio
import io
import queue

from adapters.console import PLATFORM, chat_in_terminal
from adapters.webchat_mailbox import WebChatMailbox
from tests.handoff.live import handoff_runtime


class TypedLines:
    """stdin that the test types into, line by line (readline blocks like a terminal's)."""

    def __init__(self) -> None:
        self._lines: queue.Queue[str] = queue.Queue()

    def type(self, line: str) -> None:
        self._lines.put(line + "\n")

    def readline(self) -> str:
        return self._lines.get(timeout=60)


async def shown(screen: io.StringIO, text: str, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while text not in screen.getvalue():
            await asyncio.sleep(0.01)


def test_agent_messages_and_the_rating_request_appear_as_they_arrive(tmp_path):
    runtime = handoff_runtime(tmp_path)
    mailbox = WebChatMailbox(runtime.db, PLATFORM)
    service = runtime.handoff
    stdin, screen = TypedLines(), io.StringIO()

    async def scenario() -> None:
        chat = asyncio.create_task(
            chat_in_terminal(runtime.engine, "ann-terminal", stdin, screen, mailbox=mailbox, poll_seconds=0.01)
        )
        stdin.type("I want to talk to a human")
        await shown(screen, "colleague")
        handoff_id = service.repository.queue()[-1].id
        assert (await service.claim(handoff_id, "console:bob", "console")).ok
        assert (
            await service.reply(handoff_id, "console:bob", "Hi, Bob here. Your refund is on its way.", "console", "k1")
        ).ok
        await shown(screen, "agent> Hi, Bob here.")
        assert (await service.resolve(handoff_id, "console:bob", "console")).ok
        await shown(screen, "     5. 5")
        stdin.type("4")
        await shown(screen, "Thank you for your rating")
        stdin.type("/quit")
        await chat
        assert service.repository.get(handoff_id).rating == 4

    try:
        asyncio.run(scenario())
    finally:
        runtime.close()
    text = screen.getvalue()
    assert text.index("has joined the conversation") < text.index("agent> Hi, Bob here.") < text.index("1 (poor)")
