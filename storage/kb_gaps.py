"""The gap queue's raw material: customer questions the knowledge base did not answer, and what editors did with them.

A *gap question* is a customer's text message that the bot
- had no answer for (`no_answer`) or found outside everything it knows (`out_of_scope`),
- asked to clarify, after which the customer pressed "None of these" (the next message is `rephrase`),
- or that opened a handoff (`handoff`, or `handoff_unavailable` when nobody was free), unless the customer simply
  asked for a person (those say nothing a FAQ could answer).
Questions an editor has decided on (`kb_gap_decision`) leave the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from storage.db import Database
from storage.models import Conversation, Handoff, KbGapDecision, Message, utcnow

HANDED_OFF = ("handoff", "handoff_unavailable")  # a handoff opened (with or without a person free to take it)
GAP_DECISIONS = ("no_answer", "out_of_scope", "clarify", *HANDED_OFF)
ASKED_FOR_A_PERSON = ("explicit_request", "customer_choice")
GAP_ACTIONS = ("attached", "drafted", "dismissed")


@dataclass(frozen=True, slots=True)
class GapQuestion:
    message_id: int
    conversation_id: int
    customer_id: int
    text: str
    language: str
    channel: str
    decision: str  # no_answer | out_of_scope | clarify (then "None of these") | handoff | handoff_unavailable
    emotion_label: str | None
    emotion_intensity: float
    handed_off: bool
    created_at: datetime


class GapLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def questions(self, days: int = 90, limit: int = 5000, now: datetime | None = None) -> list[GapQuestion]:
        """Undecided gap questions of the last `days`, newest first, at most `limit`."""
        since = (now or utcnow()) - timedelta(days=days)
        decided = select(KbGapDecision.message_id)
        query = (
            select(Message, Conversation.platform)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.direction == "in",
                Message.content_type.is_(None),
                Message.decision.in_(GAP_DECISIONS),
                Message.created_at >= since,
                Message.id.not_in(decided),
            )
            .order_by(Message.id.desc())
            .limit(limit * 2)
        )
        with self._db.session() as session:
            rows = session.exec(query).all()
            conversations = {message.conversation_id for message, _ in rows}
            handoffs = _handoffs_by_conversation(session, conversations)
            refused = _clarify_refusals(session, [m for m, _ in rows if m.decision == "clarify"])
        found = []
        for message, platform in rows:
            if not message.text.strip():
                continue
            if message.decision == "clarify" and message.id not in refused:
                continue
            handed_off = message.decision in HANDED_OFF
            earlier = handoffs.get(message.conversation_id, []) if handed_off else []
            reason = _handoff_after(earlier, message.created_at)
            if handed_off and reason in ASKED_FOR_A_PERSON:
                continue
            found.append(
                GapQuestion(
                    message.id,
                    message.conversation_id,
                    message.customer_id,
                    message.text,
                    message.language or "en",
                    platform,
                    message.decision,
                    message.emotion_label,
                    message.emotion_intensity or 0.0,
                    handed_off,
                    message.created_at,
                )
            )
        return found[:limit]

    def decide(self, message_ids: list[int], action: str, editor: str, faq_id: str | None = None) -> int:
        """Take these questions out of the queue; returns how many were still in it."""
        if action not in GAP_ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        with self._db.session() as session:
            taken = set(
                session.exec(select(KbGapDecision.message_id).where(KbGapDecision.message_id.in_(message_ids))).all()
            )
            fresh = [i for i in dict.fromkeys(message_ids) if i not in taken]
            for message_id in fresh:
                session.add(KbGapDecision(message_id=message_id, action=action, faq_id=faq_id, decided_by=editor))
        return len(fresh)

    def decided(self) -> int:
        with self._db.session() as session:
            return session.exec(select(func.count()).select_from(KbGapDecision)).one()


def _handoffs_by_conversation(session, conversation_ids: set[int]) -> dict[int, list[tuple[datetime, str]]]:
    by_conversation: dict[int, list[tuple[datetime, str]]] = {}
    if not conversation_ids:
        return by_conversation
    query = select(Handoff.conversation_id, Handoff.requested_at, Handoff.reason).where(
        Handoff.conversation_id.in_(list(conversation_ids))
    )
    for conversation_id, requested_at, reason in session.exec(query).all():
        by_conversation.setdefault(conversation_id, []).append((requested_at, reason))
    return by_conversation


def _handoff_after(handoffs: list[tuple[datetime, str]], asked_at: datetime) -> str | None:
    """The reason of the handoff this question opened (the one requested closest after it), if any."""
    asked = _aware(asked_at)
    after = [(_aware(at) - asked, reason) for at, reason in handoffs if _aware(at) - asked >= timedelta(seconds=-1)]
    return min(after)[1] if after else None


def _clarify_refusals(session, clarified: list[Message]) -> set[int]:
    """The clarified questions whose next customer message was "None of these" (logged as `rephrase`)."""
    if not clarified:
        return set()
    waiting = {m.id for m in clarified}  # one query for all of them, not one each
    query = (
        select(Message.id, Message.conversation_id, Message.decision)
        .where(
            Message.conversation_id.in_({m.conversation_id for m in clarified}),
            Message.direction == "in",
            Message.id >= min(waiting),
        )
        .order_by(Message.id)
    )
    refused, open_question = set(), {}
    for message_id, conversation_id, decision in session.exec(query).all():
        asked = open_question.pop(conversation_id, None)
        if asked is not None and decision == "rephrase":
            refused.add(asked)
        if message_id in waiting:
            open_question[conversation_id] = message_id
    return refused


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
