"""Every sentence the bot says to customers, in each language it speaks.

The sentences live in the business file (`bot/data/business.toml`, overridable with WARMDESK_BUSINESS_FILE);
`Texts` is that catalogue, handed to whatever speaks to customers. Add a new sentence to the default file's
[texts.en] and [texts.zh] sections, never as a string literal in code.
"""

from __future__ import annotations

from bot.business import BusinessFile, load_business_file


class Texts:
    def __init__(self, catalogue: dict[str, dict[str, str]]) -> None:
        self._catalogue = catalogue
        self.languages = tuple(catalogue)

    @classmethod
    def from_business(cls, business: BusinessFile) -> Texts:
        return cls(business.texts())

    def say(self, key: str, language: str) -> str:
        return self._catalogue.get(language, self._catalogue["en"])[key]


DEFAULT_TEXTS = Texts.from_business(load_business_file())
LANGUAGES = DEFAULT_TEXTS.languages
