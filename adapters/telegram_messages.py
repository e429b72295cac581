"""Translating Telegram updates into the engine's InboundMessage and choices into inline keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.messages import Choice, InboundMessage

PLATFORM = "telegram"
MAX_CALLBACK_DATA_BYTES = 64  # Bot API limit for callback_data
SHORT_LABEL_CHARS = 4  # labels this short (a 1–5 rating) fit on one row
START_COMMAND = "/start"

# Attribute on telegram.Message -> content_type passed to the engine, checked in this order.
NON_TEXT_KINDS = (
    "photo",
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


class MalformedUpdate(ValueError):
    """An update whose fields do not have the Bot API's types (a message without a chat, a number as text)."""


def language_hint(language_code: str | None) -> str | None:
    if not language_code:
        return None
    code = language_code.lower()
    return "zh" if code.startswith("zh") else "en" if code.startswith("en") else None


def inbound_from_update(update: Update) -> InboundMessage | None:
    """The customer message in an update, or None for updates the bot does not answer (groups, edits, joins...)."""
    if update.callback_query is not None:
        return _from_callback(update)
    message = update.message
    if message is None:
        return None
    if message.chat is None or not all(isinstance(v, str | None) for v in (message.text, message.caption)):
        raise MalformedUpdate(f"update {update.update_id}: message without a chat, or text that is not a string")
    if message.chat.type != "private" or message.from_user is None:
        return None
    user = message.from_user
    text, content_type = message.text or "", "text"
    if message.text is None:
        content_type = next((kind for kind in NON_TEXT_KINDS if getattr(message, kind, None)), "other")
        text = message.caption or ""
    return InboundMessage(
        platform=PLATFORM,
        platform_user_id=str(user.id),
        chat_id=str(message.chat.id),
        message_id=str(update.update_id),
        text=text,
        display_name=user.full_name or None,
        language_hint=language_hint(user.language_code),
        content_type=content_type,
    )


def is_start_command(message: InboundMessage) -> bool:
    first_word = message.text.split(maxsplit=1)[0] if message.text.strip() else ""
    return message.content_type == "text" and first_word.split("@", 1)[0] == START_COMMAND


def _from_callback(update: Update) -> InboundMessage | None:
    query = update.callback_query
    if query.from_user is None or not isinstance(query.data, str | None):
        raise MalformedUpdate(f"update {update.update_id}: button press without a user, or data that is not a string")
    shown = query.message if isinstance(query.message, Message) else None
    if not query.data or shown is None or shown.chat.type != "private":
        return None
    return InboundMessage(
        platform=PLATFORM,
        platform_user_id=str(query.from_user.id),
        chat_id=str(shown.chat.id),
        message_id=str(update.update_id),
        text=_button_label(shown, query.data) or "",
        display_name=query.from_user.full_name or None,
        language_hint=language_hint(query.from_user.language_code),
        choice_id=query.data,
    )


def _button_label(message: Message, data: str) -> str | None:
    """The label of the pressed button, so the log shows what the customer chose rather than an id."""
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup else ()
    return next((button.text for row in rows for button in row if button.callback_data == data), None)


def keyboard(choices: list[Choice]) -> InlineKeyboardMarkup | None:
    buttons = [
        InlineKeyboardButton(choice.label, callback_data=choice.id)
        for choice in choices
        if len(choice.id.encode()) <= MAX_CALLBACK_DATA_BYTES
    ]
    if not buttons:
        return None
    if all(len(button.text) <= SHORT_LABEL_CHARS for button in buttons):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])
