"""The KB editor's entry form: reading and validating what an editor typed, and diffing two revisions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from adapters.staff.texts import say
from knowledge.entry import FaqEntry

ID_PATTERN = r"^[\w.-]{1,80}$"
MAX_QUESTION_CHARS = 500
MAX_QUESTIONS = 200
MAX_ANSWER_CHARS = 4000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
FIELDS = ("questions", "answer", "answer_zh", "answer_en", "tags")


@dataclass
class EntryForm:
    id: str
    questions: str = ""
    answer: str = ""
    answer_zh: str = ""
    answer_en: str = ""
    tags: str = ""
    revision: int = 0  # the revision the editor started from; 0 for a new entry
    note: str = ""
    draft_id: int = 0  # the traffic draft this form approves, if any
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_draft(cls, draft) -> EntryForm:
        """A new entry prefilled from a draft: its question, and the agent's answer in the customer's language."""
        slug = re.sub(r"[^\w]+", "-", draft.question.lower()).strip("-")[:60] or "entry"
        form = cls(id=f"{slug}-{draft.id}" if not slug.isascii() else slug, questions=draft.question, draft_id=draft.id)
        setattr(form, "answer_zh" if draft.language == "zh" else "answer_en", draft.answer)
        form.note = f"draft {draft.id} ({draft.source})"
        return form

    @classmethod
    def of(cls, entry: FaqEntry, revision: int) -> EntryForm:
        return cls(
            id=entry.id,
            questions="\n".join(entry.questions),
            answer=entry.answer or "",
            answer_zh=entry.answer_zh or "",
            answer_en=entry.answer_en or "",
            tags=", ".join(entry.tags),
            revision=revision,
        )

    def entry(self) -> FaqEntry:
        questions = list(dict.fromkeys(q.strip() for q in self.questions.splitlines() if q.strip()))
        tags = list(dict.fromkeys(t.strip() for t in re.split(r"[,|，]", self.tags) if t.strip()))
        return FaqEntry(
            self.id.strip(),
            questions,
            self.answer.strip() or None,
            self.answer_zh.strip() or None,
            self.answer_en.strip() or None,
            tags,
        )

    def validate(self, language: str) -> bool:
        entry = self.entry()
        errors = []
        if not re.fullmatch(ID_PATTERN, entry.id):
            errors.append(say("edit.err_id", language))
        if not entry.questions:
            errors.append(say("edit.err_questions", language))
        if not (entry.answer or entry.answer_zh or entry.answer_en):
            errors.append(say("edit.err_answer", language))
        limits = [
            (say("kb.questions", language), max((len(q) for q in entry.questions), default=0), MAX_QUESTION_CHARS),
            (say("kb.questions", language) + " (#)", len(entry.questions), MAX_QUESTIONS),
            (say("edit.answer", language), len(entry.answer or ""), MAX_ANSWER_CHARS),
            (say("edit.answer_zh", language), len(entry.answer_zh or ""), MAX_ANSWER_CHARS),
            (say("edit.answer_en", language), len(entry.answer_en or ""), MAX_ANSWER_CHARS),
            (say("kb.tags", language) + " (#)", len(entry.tags), MAX_TAGS),
            (say("kb.tags", language), max((len(t) for t in entry.tags), default=0), MAX_TAG_CHARS),
        ]
        errors += [
            say("edit.err_long", language, field=name, limit=limit) for name, size, limit in limits if size > limit
        ]
        self.errors = errors
        return not errors


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff_entries(old: FaqEntry | None, new: FaqEntry | None) -> dict[str, list[DiffLine]]:
    """Per field, the lines of `old` and `new` marked same / removed / added (only fields that differ)."""
    result = {}
    for name in FIELDS:
        before, after = _lines(old, name), _lines(new, name)
        if before == after:
            continue
        lines = []
        for line in difflib.ndiff(before, after):
            marker, text = line[:2], line[2:]
            if marker == "? ":
                continue
            lines.append(DiffLine({"  ": "same", "- ": "removed", "+ ": "added"}[marker], text))
        result[name] = lines
    return result


def _lines(entry: FaqEntry | None, name: str) -> list[str]:
    if entry is None:
        return []
    value = getattr(entry, name)
    if isinstance(value, list):
        return list(value)
    return (value or "").splitlines()
