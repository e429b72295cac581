"""Messages for a web chat page that arrive later (agent replies, "a person has joined", rating requests), and
what a page that comes back needs to show again.

The outbox row is the mailbox: the web "sender" only confirms it, and the page fetches rows after the last
id it has seen (`GET /api/chat/updates`), so a reload or a lost response never loses a message. The
conversation so far comes from the message log (`GET /api/chat/history`).
"""

from __future__ import annotations

from sqlmodel import select

from bot.messages import OutboundMessage
from storage.chat_history import ChatHistory, chat_history, chat_state
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

MAX_UPDATES = 50


class WebChatSender:
    """Nothing to push: the page polls the stored row. Returning marks it delivered to the mailbox."""

    async def send(self, message: OutboundMessage) -> str | None:
        return None


class WebChatMailbox:
    def __init__(self, db: Database, platform: str = "web") -> None:
        self._db = db
        self._platform = platform
        self.sender = WebChatSender()

    def updates(self, session_id: str, after_id: int = 0) -> list[OutboxMessage]:
        with self._db.session() as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.platform == self._platform,
                        OutboxMessage.platform_user_id == session_id,
                        OutboxMessage.id > after_id,
                        OutboxMessage.status != OutboxStatus.FAILED,
                    )
                    .order_by(OutboxMessage.id)
                    .limit(MAX_UPDATES)
                ).all()
            )

    def history(self, session_id: str) -> ChatHistory | None:
        return chat_history(self._db, self._platform, session_id)

    def state(self, session_id: str) -> tuple[str, str | None]:
        return chat_state(self._db, self._platform, session_id)
