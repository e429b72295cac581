"""The core's own message types: the only thing adapters and the engine share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` as a database can store it: lone UTF-16 surrogates (JSON "\\ud800"), which UTF-8 cannot encode,
    become U+FFFD, and NUL, which PostgreSQL text cannot hold, is dropped."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


@dataclass(frozen=True, slots=True)
class Choice:
    """A button the customer may press instead of typing (clarify options, ratings)."""

    id: str
    label: str


@dataclass(slots=True)
class InboundMessage:
    """A customer message, already translated out of the platform's payload."""

    platform: str
    platform_user_id: str
    text: str
    chat_id: str | None = None
    message_id: str | None = None
    display_name: str | None = None
    language_hint: str | None = None
    choice_id: str | None = None
    content_type: str = "text"  # "text", or what the platform sent instead: "photo", "voice", "sticker", ...
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.text = storable(self.text)
        if self.display_name is not None:
            self.display_name = storable(self.display_name)


@dataclass(slots=True)
class OutboundMessage:
    """Something to deliver to a customer; adapters render choices as buttons or numbered text."""

    platform: str
    platform_user_id: str
    text: str
    language: str
    chat_id: str | None = None
    choices: list[Choice] = field(default_factory=list)
    kind: str = "answer"
