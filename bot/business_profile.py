"""Who the bot is and what it helps with, from the business file's [business] section: the bot's name and
topics per language (topics default to the knowledge base's own tags, see bot/kb_topics.py) and the hours the
desks are staffed."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from bot.business import BusinessFile, load_business_file


class BusinessLanguage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    topics: str = ""  # empty: the knowledge base's most used tags


class BusinessSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: str = ""
    timezone: str = "UTC"
    topics_shown: int = Field(default=6, ge=1, le=20)
    en: BusinessLanguage = Field(default_factory=BusinessLanguage)
    zh: BusinessLanguage = Field(default_factory=BusinessLanguage)

    def language(self, language: str) -> BusinessLanguage:
        return self.zh if language == "zh" else self.en


class BusinessProfile:
    def __init__(self, section: BusinessSection, topics: Callable[[str], str] | None = None) -> None:
        self.section = section
        self._topics = topics or (lambda language: section.language(language).topics)

    @classmethod
    def default(cls) -> BusinessProfile:
        return cls(business_section(load_business_file()))

    def name(self, language: str) -> str:
        return self.section.language(language).name or self.section.en.name

    def topics(self, language: str) -> str:
        return self._topics(language)


def business_section(business: BusinessFile) -> BusinessSection:
    return BusinessSection.model_validate(business.section("business"))
