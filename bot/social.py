"""Social turns: greetings, thanks, goodbyes, acknowledgements and emoji get a short polite reply of their own.

A message is social when it is made only of the business file's `[social]` phrases (any language's, since
customers mix them: "ok 多谢"), filler words, punctuation and emoji; or when it starts with an acknowledgement
and goes on with a short statement that asks nothing ("好 我去app里看看"). A greeting followed by a question
("hi, how do I get a refund?") is not social: the question is answered. Social turns never search the
knowledge base, never count as failed turns and never hand off.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from bot.messages import InboundMessage
from bot.policy import PlannedReply
from bot.texts import DEFAULT_TEXTS, Texts
from storage.conversations import ConversationSnapshot

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# What the kinds of social turn are answered with, most specific first.
KINDS = ("bot", "done", "goodbye", "thanks", "greeting", "ack")


class SocialDecision:
    SOCIAL = "social"


class SocialPhrases(BaseModel):
    """One language's phrases, by kind of turn (see the [social] section of the business file)."""

    model_config = ConfigDict(extra="forbid")

    greeting: list[str] = Field(default_factory=list)
    thanks: list[str] = Field(default_factory=list)
    goodbye: list[str] = Field(default_factory=list)
    done: list[str] = Field(default_factory=list)
    ack: list[str] = Field(default_factory=list)
    bot: list[str] = Field(default_factory=list)
    filler: list[str] = Field(default_factory=list)
    question_words: list[str] = Field(default_factory=list)


class SocialSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # "ok, I'll check the app": an acknowledgement followed by at most this many words (a Chinese character
    # counts as one) that ask nothing is still an acknowledgement.
    max_statement_words: int = Field(default=8, ge=0)
    en: SocialPhrases = Field(default_factory=SocialPhrases)
    zh: SocialPhrases = Field(default_factory=SocialPhrases)


@dataclass(frozen=True, slots=True)
class SocialTurn:
    kind: str  # one of KINDS
    statement: bool = False  # an acknowledgement followed by a short statement, not social phrases alone


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(_normal(text))


def token_spans(text: str) -> list[re.Match[str]]:
    """The tokens of `text` with their positions in it; none when normalising changes its length (a rare
    letter whose lower case is longer), as the positions would then not point into `text`."""
    normal = _normal(text)
    return list(_TOKEN.finditer(normal)) if len(normal) == len(text) else []


def _normal(text: str) -> str:
    return text.lower().replace("\u2019", "'")


def _has_symbol(text: str) -> bool:
    return any(unicodedata.category(ch) == "So" for ch in text)


class SocialMatcher:
    def __init__(self, settings: SocialSettings) -> None:
        self.settings = settings
        self._phrases: dict[tuple[str, ...], str] = {}
        self._question_words: set[tuple[str, ...]] = set()
        for phrases in (settings.en, settings.zh):
            for kind in (*KINDS, "filler"):
                for phrase in getattr(phrases, kind):
                    if key := tuple(tokens(phrase)):
                        self._phrases.setdefault(key, kind)
            self._question_words.update(key for word in phrases.question_words if (key := tuple(tokens(word))))
        self._longest = max((len(key) for key in self._phrases), default=0)

    def match(self, text: str) -> SocialTurn | None:
        if not self.settings.enabled:
            return None
        spans = list(_TOKEN.finditer(_normal(text)))
        words = [span.group(0) for span in spans]
        if not words:
            return SocialTurn("ack") if _has_symbol(text) else None
        kinds, position = self._consume(words)
        if position == len(words):
            social = [kind for kind in kinds if kind != "filler"]
            return SocialTurn(min(social, key=KINDS.index)) if social else None
        rest = words[position:]
        separated = spans[position - 1].end() < spans[position].start() if position else False
        if (
            separated  # "好 我去看看" is an ack and a statement; "好贵" is not an ack
            and kinds
            and kinds[0] in ("ack", "thanks")
            and len(rest) <= self.settings.max_statement_words
            and not self._asks(text, rest)
        ):
            return SocialTurn("ack", statement=True)
        return None

    def _consume(self, words: list[str]) -> tuple[list[str], int]:
        """Longest phrase at each position, left to right; stops at the first word no phrase covers."""
        kinds, position = [], 0
        while position < len(words):
            for size in range(min(self._longest, len(words) - position), 0, -1):
                kind = self._phrases.get(tuple(words[position : position + size]))
                if kind is not None:
                    kinds.append(kind)
                    position += size
                    break
            else:
                break
        return kinds, position

    def asks(self, text: str) -> bool:
        """The message asks something: a question mark or one of the question words of any language."""
        return self._asks(text, tokens(text))

    def _asks(self, text: str, rest: list[str]) -> bool:
        if "?" in text or "？" in text:
            return True
        for size in {len(key) for key in self._question_words}:
            if any(tuple(rest[i : i + size]) in self._question_words for i in range(len(rest) - size + 1)):
                return True
        return False


class SocialTurns:
    """The engine interceptor: a social message gets the reply for its kind, in the customer's language."""

    def __init__(
        self,
        settings: SocialSettings,
        texts: Texts = DEFAULT_TEXTS,
        topics: Callable[[str], str] | None = None,
        bot_name: Callable[[str], str] | None = None,
        asks_for_person: Callable[[str], bool] = lambda text: False,
    ) -> None:
        self.matcher = SocialMatcher(settings)
        self._asks_for_person = asks_for_person
        self._texts = texts
        self._topics = topics or (lambda language: "")
        self._bot_name = bot_name or (lambda language: "")

    def intercept(
        self, message: InboundMessage, text: str, language: str, snapshot: ConversationSnapshot
    ) -> PlannedReply | None:
        turn = self.matcher.match(text)
        if turn is None or (turn.statement and self._asks_for_person(text)):  # "ok, agent please"
            return None
        reply = self._texts.say(f"social_{turn.kind}", language)
        if turn.kind in ("greeting", "bot"):
            reply = reply.format(topics=self._topics(language), bot_name=self._bot_name(language))
        return PlannedReply(SocialDecision.SOCIAL, reply)


def social_settings(section: dict) -> SocialSettings:
    return SocialSettings.model_validate(section)


def lead_in_phrases(settings: SocialSettings) -> list[str]:
    """Greetings, thanks and acknowledgements of every language: "ok, how do I…" is searched as "how do I…"."""
    return [p for phrases in (settings.en, settings.zh) for p in (*phrases.greeting, *phrases.thanks, *phrases.ack)]
