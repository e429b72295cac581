"""Block Kit for the Slack desk: the handoff card, thread notices and the staff /customer card.

Everything a customer wrote is escaped, so "<!channel>" in a chat message can never ping a Slack channel.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.handoff.agent_texts import agent_say
from bot.handoff.desk import Ticket, agent_label
from bot.handoff.sparkline import emotion_sparkline
from bot.handoff.summary import LLM_SUMMARY_MARK
from storage.customers import CustomerView
from storage.handoffs import OPEN_STATUSES, HandoffStatus

MAX_SECTION = 2900
_SLACK_MARKUP = re.compile(r"<([^<>\s][^<>]*)>")  # <url|label>, <@U1>, <#C1|general>, <!here>
MAX_BUTTON_VALUE = 2000  # Slack's limit for a button's value
CLAIM, RETURN, RESOLVE, HELP, TAKE_OVER, SUGGEST = (
    "handoff_claim",
    "handoff_return",
    "handoff_resolve",
    "handoff_help",
    "handoff_take_over",
    "handoff_suggest",  # LLM mode only: the copilot's draft, shown to the agent who pressed it
)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def agent_mrkdwn(agent: str | None) -> str:
    """An agent in Slack text: a Slack user as a real mention, anyone else (a console name) escaped."""
    label = agent_label(agent)
    return label if (agent or "").startswith("slack:") else escape(label)


def unescape(text: str) -> str:
    """An agent's Slack message as the customer should read it: Slack's links and mentions become plain text
    ("<https://x.io|our page>" → "our page (https://x.io)", "<@U1>" → "@U1"), then the escapes are undone."""
    text = _SLACK_MARKUP.sub(_plain_markup, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_markup(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target[:1] in "@#":
        return target[0] + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>
        return label or "@" + target[1:]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return f"{label} ({target})" if label and label != target else target


def summary_mrkdwn(summary: str) -> str:
    """The plain-text summary as mrkdwn: customer quotes become real quotes, everything else escaped. In LLM
    mode its fields come first (their title in bold), then the template summary they were written beside."""
    llm_part, template = split_summary(summary)
    lines = []
    if llm_part:
        title, *fields = llm_part.splitlines()
        lines += [f"*{escape(title)}*", *(escape(line) for line in fields), ""]
    for line in template.splitlines()[1:]:  # the template's first line is the card's header
        stripped = line.strip()
        lines.append("> " + escape(stripped[2:]) if stripped.startswith("> ") else escape(line))
    text = "\n".join(lines).strip("\n")
    return text if len(text) <= MAX_SECTION else text[: MAX_SECTION - 1] + "…"


def split_summary(summary: str) -> tuple[str, str]:
    """(the LLM's part or "", the template summary)."""
    llm_part, mark, template = summary.partition(LLM_SUMMARY_MARK)
    return (llm_part, template) if mark else ("", summary)


def card_title(ticket: Ticket) -> str:
    return (split_summary(ticket.summary)[1].splitlines() or [f"Handoff #{ticket.handoff_id}"])[0]


def handoff_card(ticket: Ticket, language: str, suggest: bool = False) -> list[dict[str, Any]]:
    title = card_title(ticket)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary_mrkdwn(ticket.summary) or " "}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": status_line(ticket, language)}]},
    ]
    if ticket.status in OPEN_STATUSES:
        value = str(ticket.handoff_id)
        buttons = [_button(CLAIM, "claim", value, language, style="primary")] if ticket.status == "requested" else []
        if ticket.status == HandoffStatus.CLAIMED:
            buttons.append(_button(RESOLVE, "resolve", value, language, style="primary"))
        buttons += [_button(RETURN, "return_to_bot", value, language), _button(HELP, "ask_help", value, language)]
        if suggest:
            buttons.append(_button(SUGGEST, "suggest_reply", value, language))
        blocks.append({"type": "actions", "block_id": f"handoff-{ticket.handoff_id}", "elements": buttons})
    return blocks


def status_line(ticket: Ticket, language: str) -> str:
    agent = agent_mrkdwn(ticket.agent)
    if ticket.status == HandoffStatus.REQUESTED:
        return agent_say("status.requested", language)
    if ticket.status == HandoffStatus.CLAIMED:
        return agent_say("status.claimed", language, agent=agent)
    return agent_say("status.resolved", language, agent=agent, outcome=ticket.outcome or "resolved")


def take_over_prompt(handoff_id: int, text: str, ts: str, notice: str, language: str) -> list[dict[str, Any]]:
    """Asked of someone replying in a thread they do not own: take over, and send the message they wrote?

    The message rides in the button's value, which Slack caps at 2,000 characters: a longer one is not cut
    short, the agent is asked to send it again after taking over."""
    value = json.dumps({"handoff": handoff_id, "ts": ts, "text": text}, ensure_ascii=False)
    if len(value) > MAX_BUTTON_VALUE:
        value = json.dumps({"handoff": handoff_id, "ts": ts, "text": ""})
        notice = f"{notice} {agent_say('notice.send_again', language)}"
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": notice}},  # ours: its owner is agent_mrkdwn-safe
        {"type": "actions", "elements": [_button(TAKE_OVER, "take_over", value, language, style="danger")]},
    ]


def customer_card(view: CustomerView, language: str, recent: int = 5) -> list[dict[str, Any]]:
    customer = view.customer
    said = [m for m in view.messages if m.direction == "in"]
    identities = ", ".join(f"{i.platform}:{i.platform_user_id}" for i in view.identities) or "–"
    trend = emotion_sparkline([(m.emotion_label, m.emotion_intensity) for m in said[-20:]]) or "–"
    lines = [
        f"*#{customer.id} {escape(customer.display_name or '–')}* · tier {escape(customer.tier)}",
        *_care_note_lines(view),  # relationship care: shown first
        f"Identities: {escape(identities)}",
        f"Contact: {escape(customer.email or '–')} · {escape(customer.phone or '–')}",
        f"Emotion trend: {trend}",
        "*Last interactions:*",
        *(f"> [{m.emotion_label or '–'}] {escape(m.shown_text[:200])}" for m in said[-recent:]),
    ]
    open_handoffs = [h for h in view.handoffs if h.status in OPEN_STATUSES]
    lines.append(
        "*Open handoffs:* "
        + (", ".join(f"#{h.id} {h.reason} ({h.status})" for h in open_handoffs) if open_handoffs else "none")
    )
    lines.append("*Notes:*")
    lines += [f"• {escape(n.text[:200])} — {agent_mrkdwn(n.author)}" for n in view.notes[-5:]] or ["none"]
    flags = risk_flags(view)
    lines.append("*Risk flags:* " + (", ".join(flags) if flags else "none"))
    text = "\n".join(lines)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION]}}]


def _care_note_lines(view: CustomerView) -> list[str]:
    if not view.care_notes:
        return []
    note = view.care_notes[-1]
    return [f"♥ *Care note* ({note.created_at:%Y-%m-%d}, {agent_mrkdwn(note.author)}): {escape(note.text[:300])}"]


def risk_flags(view: CustomerView) -> list[str]:
    flags = []
    said = [m for m in view.messages if m.direction == "in"][-5:]
    if sum(1 for m in said if m.emotion_label in ("anger", "anxiety", "sadness")) >= 2:
        flags.append("recent negative messages")
    if any(m.emotion_label == "anger" and (m.emotion_intensity or 0) >= 0.6 for m in said):
        flags.append("angry recently")
    if len(view.handoffs) >= 2:
        flags.append(f"{len(view.handoffs)} handoffs")
    if any(h.reason == "sensitive_topic" for h in view.handoffs):
        topics = {str((h.evidence or {}).get("topic")) for h in view.handoffs if h.reason == "sensitive_topic"}
        flags.append("sensitive topic: " + ", ".join(sorted(topics)))
    if any(h.rating is not None and h.rating <= 2 for h in view.handoffs):
        flags.append("low rating")
    return flags


def _button(action_id: str, label_key: str, value: str, language: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": agent_say(label_key, language)},
        "value": value,
    }
    if style:
        button["style"] = style
    return button
