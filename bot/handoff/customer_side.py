"""What a handoff says to the customer outside the engine's own reply (an agent's message, "an agent joined", the
rating request, the wait notice), and the 1–5 rating the customer gives back."""

from __future__ import annotations

from bot.handoff.outcomes import RATING_PREFIX, RATINGS
from bot.messages import Choice, InboundMessage, OutboundMessage
from bot.outbox import Outbox
from storage.conversations import ConversationSnapshot
from storage.db import row_id
from storage.handoffs import HandoffRepository, Recipient


def tell_customer(
    repository: HandoffRepository,
    outbox: Outbox,
    recipient: Recipient,
    text: str,
    key: str,
    kind: str = "handoff",
    choices: list[Choice] | None = None,
) -> bool:
    """Log and enqueue once per `key`; False when `key` was already sent."""
    if not repository.log_agent_message(recipient, text, key, decision=kind):
        return False
    outbox.enqueue(
        OutboundMessage(
            platform=recipient.platform,
            platform_user_id=recipient.platform_user_id,
            chat_id=recipient.chat_id,
            text=text,
            language=recipient.language,
            choices=list(choices or []),
            kind=kind,
        ),
        customer_id=recipient.customer_id,
        conversation_id=recipient.conversation_id,
        dedup_key=key,
    )
    return True


def take_rating(
    repository: HandoffRepository, message: InboundMessage, text: str, snapshot: ConversationSnapshot
) -> int | None:
    """The handoff this message rated (a rating button, or a bare 1–5 while a rating is awaited), stored; or None."""
    if snapshot.customer_id is None:
        return None
    if message.choice_id and message.choice_id.startswith(RATING_PREFIX):
        handoff_part, _, rating_part = message.choice_id.removeprefix(RATING_PREFIX).partition(":")
        handoff_id = row_id(handoff_part)
        if handoff_id is None or rating_part not in {str(n) for n in RATINGS}:
            return None
    elif text.strip() in {str(n) for n in RATINGS} and (pending := repository.awaiting_rating(snapshot.customer_id)):
        handoff_id, rating_part = pending.id, text.strip()
    else:
        return None
    repository.record_rating(handoff_id, snapshot.customer_id, int(rating_part))
    return handoff_id
