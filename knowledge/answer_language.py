"""Answers written in the wrong script: an English answer with Chinese characters in it (a brand name like
"云帆通信" that English customers cannot read), or a Chinese answer with none. Editors are warned (kb import, the
staff KB list) so the business fixes its own text; the bot never rewrites it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.entry import FaqEntry

_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class LanguageProblem:
    CHINESE_IN_ENGLISH = "chinese_in_english"
    NO_CHINESE_IN_CHINESE = "no_chinese_in_chinese"


@dataclass(frozen=True, slots=True)
class AnswerLanguageWarning:
    faq_id: str
    problem: str  # a LanguageProblem
    quoted: str = ""  # the Chinese words found in the English answer

    def __str__(self) -> str:
        if self.problem == LanguageProblem.CHINESE_IN_ENGLISH:
            return (
                f"entry {self.faq_id!r}: the English answer contains Chinese characters ({self.quoted}); "
                "customers writing in English will see them"
            )
        return f"entry {self.faq_id!r}: the Chinese answer (answer_zh) contains no Chinese characters"


def answer_language_warnings(entry: FaqEntry) -> list[AnswerLanguageWarning]:
    warnings = []
    if entry.answer_en and (found := _CHINESE.findall(entry.answer_en)):
        quoted = "、".join(dict.fromkeys(found))
        warnings.append(AnswerLanguageWarning(entry.id, LanguageProblem.CHINESE_IN_ENGLISH, quoted))
    if entry.answer_zh and entry.answer_zh.strip() and not _CHINESE.search(entry.answer_zh):
        warnings.append(AnswerLanguageWarning(entry.id, LanguageProblem.NO_CHINESE_IN_CHINESE))
    return warnings
