"""A live Warmdesk (real runtime, real uvicorn on loopback) with the handoff desks configured, and a web chat
customer that talks to it over HTTP exactly like chat.html does."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import httpx

from bot.runtime import Runtime
from bot.settings import Settings
from tests.handoff.slack_api import SIGNING_SECRET

AGENT_TOKEN = "agent-token-for-tests"
_ids = itertools.count()


def handoff_runtime(data_dir: Path, slack_api_base_url: str | None = None, staffed: bool = True) -> Runtime:
    """`staffed`: a desk counts as watched from the start (an agent is on duty), so handoffs open."""
    slack = (
        {
            "slack_bot_token": "xoxb-test",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_handoff_channel": "C1",
            "slack_staff_ids": "U5",
            "slack_api_base_url": slack_api_base_url,
        }
        if slack_api_base_url
        else {}
    )
    runtime = Runtime.open(Settings(data_dir=data_dir, agent_token=AGENT_TOKEN, **slack))
    if staffed:
        runtime.handoff.availability.staffed("on-duty")
    return runtime


def agent_client(base_url: str, name: str) -> httpx.Client:
    """The console's JSON API as the agent `name` (Bearer token and X-Agent-Name)."""
    headers = {"authorization": f"Bearer {AGENT_TOKEN}", "x-agent-name": name}
    return httpx.Client(base_url=f"{base_url}/agent/api", headers=headers, timeout=30)


class WebCustomer:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.session_id = f"customer{next(_ids):04d}session"
        self.cursor = 0

    def say(self, text: str, choice_id: str | None = None) -> dict:
        body = {"session_id": self.session_id, "message_id": f"m{next(_ids)}", "text": text, "choice_id": choice_id}
        response = self.http.post("/api/chat", json=body)
        response.raise_for_status()
        return response.json()

    def updates(self) -> list[dict]:
        response = self.http.get("/api/chat/updates", params={"session_id": self.session_id, "after": self.cursor})
        response.raise_for_status()
        data = response.json()
        self.cursor = data["cursor"]
        return data["replies"]

    def wait_for_updates(self, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """The next `count` messages pushed to this chat (the outbox worker delivers them within moments)."""
        received: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {received} reached the customer's chat")
            received += self.updates()
            time.sleep(0.05)
        return received
