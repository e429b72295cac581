"""What the agent console's JSON says about a handoff: the queue row, the detail with its transcript, and which
buttons work in the handoff's current state (and why not, when one does not)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.handoff.agent_texts import agent_say
from bot.handoff.desk import agent_label
from bot.handoff.speakers import speaker
from storage.handoff_queue import LastMessage, QueueRow
from storage.handoffs import HandoffStatus
from storage.models import Handoff, Message

LAST_MESSAGE_CHARS = 140
HELP_DESKS = frozenset({"slack"})  # desks that can reach colleagues when an agent asks for help


def plain(handoff: Handoff) -> dict[str, object]:
    return {
        "id": handoff.id,
        "status": handoff.status,
        "reason": handoff.reason,
        "agent": handoff.agent,
        "agent_name": agent_label(handoff.agent) if handoff.agent else None,
        "summary": handoff.summary,
        "outcome": handoff.outcome,
        "rating": handoff.rating,
        "customer_id": handoff.customer_id,
        "requested_at": _iso(handoff.requested_at),
        "claimed_at": _iso(handoff.claimed_at),
        "resolved_at": _iso(handoff.resolved_at),
    }


def queue_item(row: QueueRow, now: datetime) -> dict[str, object]:
    handoff = row.handoff
    until = _aware(handoff.claimed_at or handoff.resolved_at) if handoff.status != HandoffStatus.REQUESTED else now
    return {
        **plain(handoff),
        "customer_name": row.customer_name or f"Customer #{handoff.customer_id}",
        "channel": row.channel,
        "language": row.language,
        # how long the customer waited for a person (still waiting: until now)
        "wait_seconds": max(0, int((until - _aware(handoff.requested_at)).total_seconds())) if until else None,
        "last_message": _last(row.last_message),
    }


def transcript_line(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "direction": message.direction,
        "role": speaker(message.direction, message.decision),
        "text": message.shown_text,
        "decision": message.decision,
        "emotion": message.emotion_label,
        "intensity": round(message.emotion_intensity, 2) if message.emotion_intensity is not None else None,
        "at": _iso(message.created_at),
    }


def actions(handoff: Handoff, agent: str, desks: list[str], language: str) -> dict[str, dict[str, object]]:
    """Every console button: {"enabled": bool, "reason": why not}. The server still checks each action."""

    def button(reason_key: str | None, **values: object) -> dict[str, object]:
        reason = agent_say(reason_key, language, **values) if reason_key else None
        return {"enabled": reason_key is None, "reason": reason}

    if handoff.status == HandoffStatus.RESOLVED:
        closed = button("action.closed")
        return {name: closed for name in ("claim", "take_over", "reply", "resolve", "return", "help")}
    mine = handoff.status == HandoffStatus.CLAIMED and handoff.agent == agent
    someone_else = handoff.status == HandoffStatus.CLAIMED and not mine
    owner = agent_label(handoff.agent)
    help_reason = None if HELP_DESKS & set(desks) else "action.no_help_desk"
    return {
        "claim": button("action.yours" if mine else "action.owner" if someone_else else None, owner=owner),
        "take_over": button("action.yours" if mine else None if someone_else else "action.not_claimed"),
        # Replying to an unclaimed handoff is offered as "claim and send"; to someone else's as "take over and send".
        "reply": button(None),
        "resolve": button("action.owner" if someone_else else None, owner=owner),
        "return": button("action.owner" if someone_else else None, owner=owner),
        "help": button(help_reason),
    }


def _last(message: LastMessage | None) -> dict[str, object] | None:
    if message is None:
        return None
    text = " ".join(message.text.split())
    return {
        "role": speaker(message.direction, message.decision),
        "text": text if len(text) <= LAST_MESSAGE_CHARS else text[: LAST_MESSAGE_CHARS - 1] + "…",
        "at": _iso(message.at),
    }


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for the UTC times it stored."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return _aware(moment).isoformat() if moment else None
