"""Who said a logged line (the customer, the bot, a person, or the desk itself) and how a person is named to
customers. Pages draw each speaker differently; internal agent ids ("console:ann", "slack:U123") stay inside."""

from __future__ import annotations

CUSTOMER, BOT, AGENT, SYSTEM = "customer", "bot", "agent", "system"
AGENT_DECISIONS = frozenset({"agent"})
# What the desk says on its own: a person joined, the wait, the way back to the bot, the rating request.
SYSTEM_DECISIONS = frozenset({"agent_joined", "handoff_wait", "back_to_bot", "rating_request"})
# Desks whose agent ids end in a name a person chose (the console's sign-in, staff accounts).
NAMED_DESKS = frozenset({"console", "staff"})


def speaker(direction: str, decision: str | None) -> str:
    if direction == "in":
        return CUSTOMER
    if decision in AGENT_DECISIONS:
        return AGENT
    if decision in SYSTEM_DECISIONS:
        return SYSTEM
    return BOT


def customer_facing_name(agent: str | None) -> str | None:
    """ "console:Ann Lee" → "Ann Lee"; None when the id holds no name a customer should read (a Slack user id)."""
    if not agent:
        return None
    desk, _, name = agent.partition(":")
    return name.strip() or None if desk in NAMED_DESKS else None
