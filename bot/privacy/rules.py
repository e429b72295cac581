"""The business file's [privacy] section: the phrases a customer types for each data request, and the rules."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from bot.business import BusinessFile, BusinessFileError

_END_PUNCTUATION = "。.!！?？,，~～;；:："
_SPACES = re.compile(r"\s+")


class Intent:
    VIEW = "view"
    DELETE = "delete"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    NO_EMOTIONS = "no_emotions"
    WHO_LOOKED = "who_looked"
    AGREE = "agree"
    WITHDRAW = "withdraw"


class Phrases(BaseModel):
    model_config = ConfigDict(extra="forbid")

    view: list[str] = []
    delete: list[str] = []
    confirm: list[str] = []
    cancel: list[str] = []
    no_emotions: list[str] = []
    who_looked: list[str] = []
    agree: list[str] = []
    withdraw: list[str] = []


class PrivacyRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm_minutes: float = Field(default=10, gt=0)
    export_link_minutes: float = Field(default=30, gt=0)
    show_staff_names: bool = False
    notice_version: str = "1"
    strict_consent: bool = False
    phrases: dict[str, Phrases] = {}
    words: dict[str, dict[str, str]] = {}

    @classmethod
    def from_business(cls, business: BusinessFile) -> PrivacyRules:
        try:
            return cls.model_validate(business.section("privacy"))
        except ValueError as error:
            where = business.path or "the default business file"
            raise BusinessFileError(f"{where}: [privacy] is not valid: {error}") from error

    def model_post_init(self, _context) -> None:
        self._lookup = {
            normalise(phrase): intent
            for phrases in self.phrases.values()
            for intent, listed in phrases.model_dump().items()
            for phrase in listed
        }

    def intent(self, text: str) -> str | None:
        """The data request `text` is, in any language the business file lists, or None."""
        return self._lookup.get(normalise(text))

    def word(self, key: str, language: str) -> str:
        return self.words.get(language, self.words.get("en", {})).get(key, key)


def normalise(text: str) -> str:
    text = _SPACES.sub(" ", text.replace("’", "'").lower()).strip().strip(_END_PUNCTUATION).strip()
    # Chinese is written without spaces; "我的 数据" is still "我的数据".
    return text.replace(" ", "") if re.search(r"[\u4e00-\u9fff]", text) else text
