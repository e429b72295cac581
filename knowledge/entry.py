"""A FAQ entry: several ways to ask, an answer per language, tags."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


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

    def to_dict(self) -> dict:
        data = asdict(self)
        return {key: value for key, value in data.items() if value not in (None, [])} | {
            "id": self.id,
            "questions": list(self.questions),
        }

    def content_hash(self) -> str:
        """Changes when anything retrieval or answering depends on changes."""
        fields = (self.id, self.questions, self.answer, self.answer_zh, self.answer_en, self.tags)
        return hashlib.sha1(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
