"""Emotion history as the CRM keeps it: tagged customer messages, at-risk conversations and alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Row
from sqlmodel import select

from storage.db import Database
from storage.models import Conversation, EmotionAlert, Message

TaggedMessage = Row  # a customer message's columns that the emotion profile reads: _TAGGED_COLUMNS
_TAGGED_COLUMNS = (
    Message.created_at,
    Message.conversation_id,
    Message.customer_id,
    Message.emotion_label,
    Message.emotion_intensity,
    Message.faq_id,
    Message.text,
)


class EmotionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def tagged_messages(self, customer_id: int | None = None, since: datetime | None = None) -> list[TaggedMessage]:
        """Every emotion-tagged customer message, oldest first; one customer's or everyone's. Only the columns
        the emotion profile reads: the emotion rules load a customer's month on every negative message."""
        query = select(*_TAGGED_COLUMNS).where(Message.direction == "in", Message.emotion_label.is_not(None))
        if customer_id is not None:
            query = query.where(Message.customer_id == customer_id)
        if since is not None:
            query = query.where(Message.created_at >= since)
        with self._db.session() as session:
            return list(session.execute(query.order_by(Message.id)).all())

    def flag_at_risk(self, conversation_id: int) -> bool:
        """Mark a conversation at risk; True only the first time."""
        with self._db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or conversation.at_risk:
                return False
            conversation.at_risk = True
            session.add(conversation)
            return True

    def at_risk_conversations(self, customer_id: int | None = None) -> list[Conversation]:
        query = select(Conversation).where(Conversation.at_risk)
        if customer_id is not None:
            query = query.where(Conversation.customer_id == customer_id)
        with self._db.session() as session:
            return list(session.exec(query.order_by(Conversation.id)).all())

    def raise_alert(self, customer_id: int, reason: str, not_since: datetime) -> EmotionAlert | None:
        """Store an alert unless this customer already got one after `not_since` (one per window)."""
        with self._db.session() as session:
            recent = session.exec(
                select(EmotionAlert.id).where(
                    EmotionAlert.customer_id == customer_id, EmotionAlert.created_at >= not_since
                )
            ).first()
            if recent is not None:
                return None
            alert = EmotionAlert(customer_id=customer_id, reason=reason)
            session.add(alert)
            session.flush()
            return alert

    def alerts(self, customer_id: int | None = None, open_only: bool = False) -> list[EmotionAlert]:
        query = select(EmotionAlert)
        if customer_id is not None:
            query = query.where(EmotionAlert.customer_id == customer_id)
        if open_only:
            query = query.where(EmotionAlert.acknowledged_at.is_(None))
        with self._db.session() as session:
            return list(session.exec(query.order_by(EmotionAlert.id)).all())
