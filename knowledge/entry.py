"""A FAQ entry: several ways to ask, an answer per language, tags."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field


@dataclass(slots=True)
class FaqEntry:
    id: str
    questions: list[str]
    answer: str | None = None
    answer_zh: str | None = None
    answer_en: str | None = None
    tags: list[str] = field(default_factory=list)

    def answer_for(self, language: str) -> str:
        """The answer in `language` ("zh" or "en"), falling back to whatever exists."""
        preferred = self.answer_zh if language == "zh" else self.answer_en
        return preferred or self.answer or self.answer_en or self.answer_zh or ""

    def title(self, language: str = "en") -> str:
        """A short label for the entry: its first question in `language` when there is one."""
        for question in self.questions:
            if _is_chinese(question) == (language == "zh"):
                return question
        return self.questions[0] if self.questions else self.id

    def fields(self) -> dict:
        """Every field, None included: what `FaqEntry(**fields)` rebuilds exactly."""
        return {
            "id": self.id,
            "questions": list(self.questions),
            "answer": self.answer,
            "answer_zh": self.answer_zh,
            "answer_en": self.answer_en,
            "tags": list(self.tags),
        }

    def to_dict(self) -> dict:
        """The fields that hold something (id and questions always): what an export writes."""
        return {key: value for key, value in self.fields().items() if value not in (None, []) or key in _ALWAYS}

    def content_hash(self) -> str:
        """Changes when anything retrieval or answering depends on changes."""
        fields = (self.id, self.questions, self.answer, self.answer_zh, self.answer_en, self.tags)
        return hashlib.sha1(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


_ALWAYS = ("id", "questions")


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
