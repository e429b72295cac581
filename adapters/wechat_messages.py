"""Translating WeChat callback fields into the engine's InboundMessage, and choices into tappable menu links."""

from __future__ import annotations

import html
import re

from bot.messages import InboundMessage, OutboundMessage

PLATFORM = "wechat"
MENU_ID = re.compile(r"^[A-Za-z0-9:_.-]{1,64}$")
TEXT_LIMIT_BYTES = 2048  # WeChat refuses longer text in passive replies and customer-service messages
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "，", ", ", " ")


class MissingField(ValueError):
    pass


def message_key(fields: dict[str, str]) -> str:
    """WeChat's retry identity: MsgId for messages, sender + CreateTime for events (which have no MsgId)."""
    if fields.get("MsgId"):
        return fields["MsgId"]
    return f"{required(fields, 'FromUserName')}:{fields.get('CreateTime', '')}:{fields.get('Event', '')}"


def inbound_from_fields(fields: dict[str, str]) -> InboundMessage:
    """A customer message (text, or any other kind, which the engine answers with the text-only notice)."""
    kind = required(fields, "MsgType").lower()
    openid = required(fields, "FromUserName")
    return InboundMessage(
        platform=PLATFORM,
        platform_user_id=openid,
        chat_id=openid,
        message_id=message_key(fields),
        text=fields.get("Content", "") if kind == "text" else "",
        choice_id=fields.get("bizmsgmenuid") or None,
        content_type="text" if kind == "text" else kind,
        metadata={"official_account": fields.get("ToUserName", "")},
    )


def required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise MissingField(name)
    return value


def render_text(message: OutboundMessage) -> str:
    """WeChat has no buttons in text; `weixin://bizmsgmenu` links send the choice back with its id."""
    lines = [message.text]
    for choice in message.choices:
        if not MENU_ID.match(choice.id):
            continue
        label = html.escape(choice.label, quote=True)
        lines.append(f'<a href="weixin://bizmsgmenu?msgmenucontent={label}&msgmenuid={choice.id}">{label}</a>')
    return "\n".join(lines)


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """`text` in parts of at most `limit` UTF-8 bytes, each cut at the strongest break (paragraph, line, sentence,
    clause, word) in its second half; a cut between two characters only when there is none."""
    parts = []
    while len(text.encode("utf-8")) > limit:
        head = text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
        cut = next((head.rfind(mark) + len(mark) for mark in _BREAKS if head.rfind(mark) >= len(head) // 2), len(head))
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if not parts:
        return [text]
    return [*parts, text.rstrip()] if text.strip() else parts
