"""What one chat session has said and heard so far, for a page that comes back (reload, return next day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from storage.db import Database
from storage.models import (
    Conversation,
    ConversationState,
    Customer,
    CustomerPrivacy,
    Identity,
    Message,
    OutboxMessage,
)

MAX_HISTORY = 100


@dataclass(frozen=True, slots=True)
class HistoryLine:
    id: int
    direction: str  # "in" from the customer, "out" to them
    text: str
    decision: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChatHistory:
    language: str | None
    state: str  # a ConversationState
    agent: str | None  # who has the conversation now ("console:ann"), when a person does
    lines: list[HistoryLine]
    cursor: int  # the newest outbox row for this chat: later messages come from the mailbox
    notice_version: str | None = None  # the privacy notice version the customer was shown


def chat_history(db: Database, platform: str, platform_user_id: str, limit: int = MAX_HISTORY) -> ChatHistory | None:
    """None when this chat never wrote (a new session, or a customer who deleted their data)."""
    with db.session() as session:
        # The cursor first: a message enqueued after it was logged before it, so it is shown once (updates).
        cursor = session.exec(
            select(func.max(OutboxMessage.id)).where(
                OutboxMessage.platform == platform, OutboxMessage.platform_user_id == platform_user_id
            )
        ).one()
        customer = session.exec(
            select(Customer)
            .join(Identity, Identity.customer_id == Customer.id)
            .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
        ).first()
        if customer is None:
            return None
        conversations = select(Conversation.id).where(
            Conversation.customer_id == customer.id, Conversation.platform == platform
        )
        rows = session.exec(
            select(Message)
            .where(Message.conversation_id.in_(conversations), Message.platform == platform)
            .order_by(Message.id.desc())
            .limit(limit)
        ).all()
        current = session.exec(
            select(Conversation)
            .where(Conversation.customer_id == customer.id, Conversation.platform == platform)
            .order_by(Conversation.id.desc())
        ).first()
        lines = [HistoryLine(m.id, m.direction, m.shown_text, m.decision, m.created_at) for m in reversed(rows)]
        state = current.state if current else ConversationState.BOT
        privacy = session.get(CustomerPrivacy, customer.id)
        return ChatHistory(
            customer.language,
            state,
            current.assigned_agent if current else None,
            lines,
            cursor or 0,
            privacy.notice_version if privacy else None,
        )


def chat_state(db: Database, platform: str, platform_user_id: str) -> tuple[str, str | None]:
    """The conversation's state and its agent, cheaply, for every poll of a waiting page."""
    with db.session() as session:
        found = session.exec(
            select(Conversation.state, Conversation.assigned_agent)
            .join(Identity, Identity.customer_id == Conversation.customer_id)
            .where(
                Identity.platform == platform,
                Identity.platform_user_id == platform_user_id,
                Conversation.platform == platform,
            )
            .order_by(Conversation.id.desc())
        ).first()
    return (found[0], found[1]) if found else (ConversationState.BOT, None)
