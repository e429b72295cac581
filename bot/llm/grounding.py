"""The check after generation: a composed reply may only state what the cited answers state.

Every number (prices, dates, time limits, amounts, phone numbers), link, email address and code in the reply must
appear in the cited answers, and a promise phrase (refunds, timings, guarantees...) the answers do not contain is
flagged. Chinese and English number words that count something ("七天", "seven days") are read as digits on both
sides, so a faithful rewording passes. A reply that fails is never shown: the caller falls back to the FAQ answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, Field, field_validator

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。！？、）)]+", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PLACEHOLDER = re.compile(r"\[(?:PHONE|EMAIL|ORDER)_\d+\]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
CODE = re.compile(r"\b(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b|\b[A-Z]{6,}\b")
CJK = re.compile(r"[\u4e00-\u9fff]")

_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_COUNTED = re.compile(
    r"([零〇一二两三四五六七八九十百千万]+)(?=(?:个)?(?:工作日|天|日|小时|分钟|秒|周|星期|个月|月|年|元|块|角|次|件|倍|折|号|点|%|％|GB|G|M|分))"
)
_EN_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "sixty": 60, "ninety": 90, "hundred": 100,
}  # fmt: skip
_EN_COUNTED = re.compile(
    r"\b(" + "|".join(sorted(_EN_WORDS, key=len, reverse=True)) + r")(?=[ -](?:business |working |calendar )?"
    r"(?:days?|hours?|minutes?|weeks?|months?|years?|times|percent|yuan|rmb|dollars?|items?|gb)\b)",
    re.IGNORECASE,
)


class LlmRules(BaseModel):
    """The business file's `[llm]` section: the name the model speaks for, and the promise phrases (regular
    expressions, per language) a composed reply may only contain when a cited answer does too."""

    model_config = {"extra": "forbid"}

    business_name: str = Field(min_length=1)
    promises_en: list[str]
    promises_zh: list[str]

    @field_validator("promises_en", "promises_zh")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            re.compile(pattern)
        return patterns

    def promises(self, language: str) -> list[re.Pattern[str]]:
        return _compiled(tuple(self.promises_zh if language == "zh" else self.promises_en))


@dataclass(slots=True)
class Verdict:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def normalise(text: str) -> str:
    """Full-width forms folded (NFKC), thousands separators dropped, counted number words as digits."""
    text = THOUSANDS.sub("", unicodedata.normalize("NFKC", text))
    text = _ZH_COUNTED.sub(lambda m: str(_zh_number(m.group(1))), text)
    return _EN_COUNTED.sub(lambda m: str(_EN_WORDS[m.group(1).lower()]), text)


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


@dataclass(frozen=True, slots=True)
class _Source:
    """What a check needs of the cited answers, worked out once per answer text (FAQ answers repeat)."""

    text: str
    lower: str
    numbers: frozenset[str]
    has_chinese: bool


@lru_cache(maxsize=2048)
def _source(joined: str) -> _Source:
    text = normalise(joined)
    return _Source(text, text.lower(), frozenset(_numbers(text)), bool(CJK.search(text)))


def check(reply: str, answers: Sequence[str], language: str, rules: LlmRules, *, faq: bool = False) -> Verdict:
    """`faq`: the answers are the KB's, worth remembering; a conversation (the summary's source) is never kept."""
    verdict = Verdict()
    joined = "\n".join(answers)
    cited = _source(joined) if faq else _source.__wrapped__(joined)
    source, source_lower = cited.text, cited.lower
    said = normalise(PLACEHOLDER.sub(" ", reply))
    if not said.strip():
        verdict.problems.append("empty")
        return verdict
    for url in URL.findall(said):
        if url.rstrip(".,;:!?").lower() not in source_lower:
            verdict.problems.append("link")
    said_without_links = URL.sub(" ", EMAIL.sub(" ", said))
    for email in EMAIL.findall(said):
        if email.lower() not in source_lower:
            verdict.problems.append("email")
    if any(n not in cited.numbers for n in _numbers(said_without_links)):
        verdict.problems.append("number")
    if any(code not in source for code in CODE.findall(said_without_links)):
        verdict.problems.append("code")
    if any(p.search(said) and not p.search(source) for p in rules.promises(language)):
        verdict.problems.append("promise")
    has_chinese = bool(CJK.search(said))
    if (language == "zh" and not has_chinese) or (language != "zh" and has_chinese and not cited.has_chinese):
        verdict.problems.append("language")
    return verdict


def _numbers(text: str) -> Iterable[str]:
    for match in NUMBER.findall(text):
        yield match.rstrip("0").rstrip(".") if "." in match else match.lstrip("0") or "0"


def _zh_number(text: str) -> int:
    """二十九 → 29, 一百二十 → 120, 三万 → 30000, 十 → 10; digit strings like 一二三 read digit by digit."""
    if all(ch in _ZH_DIGITS for ch in text):
        return int("".join(str(_ZH_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            section += (digit or 1) * _ZH_UNITS[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
    return total + section + digit
