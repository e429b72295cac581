"""The KB editor's queries: a filtered, paginated list of entries, and the editors' saved regression tests.

The list is held in memory per `faqs.version()` (one cheap MAX query per page): with 20,000 entries a
substring search over questions and answers in Python is a few milliseconds, and it finds Chinese text,
which a LIKE over SQLite's JSON column (stored as \\u escapes) would not.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import delete, select

from knowledge.answer_language import answer_language_warnings
from knowledge.entry import FaqEntry
from storage.db import Database
from storage.faqs import FaqRepository
from storage.models import FaqRecord, FaqRevision, KbTestCase


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: str
    title: str
    question_count: int
    tags: tuple[str, ...]
    has_zh: bool
    has_en: bool
    revision: int
    updated_at: datetime
    haystack: str  # lower-cased id, questions and answers, for the search box
    language_problems: tuple[str, ...] = ()  # knowledge.answer_language.LanguageProblem values

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(lang for lang, present in (("zh", self.has_zh), ("en", self.has_en)) if not present)


@dataclass(frozen=True, slots=True)
class EntryPage:
    rows: list[EntryRow]
    total: int  # entries matching the filters, over every page
    everything: int  # entries in the knowledge base
    missing_zh: int
    missing_en: int


def is_chinese(text: str | None) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text or "")


class KbListing:
    def __init__(self, db: Database, faqs: FaqRepository) -> None:
        self._db, self._faqs = db, faqs
        self._lock = threading.Lock()
        self._version: int | None = None
        self._by_id: dict[str, EntryRow] = {}
        self._rows: list[EntryRow] = []
        self._summary: tuple[list[tuple[str, int]], int, int] = ([], 0, 0)  # tags with counts, missing zh, en

    def rows(self) -> list[EntryRow]:
        """Every entry, by id. After an edit only the entries changed since the last look are read again."""
        version = self._faqs.version()
        with self._lock:
            if version == self._version:
                return self._rows
            changed: set[str] | None = None
            if self._version is not None:
                with self._db.session() as session:
                    changed = set(session.exec(select(FaqRevision.faq_id).where(FaqRevision.id > self._version)).all())
            if changed is None or len(changed) > 500:  # first look, or an import: read everything once
                self._by_id = {row.id: row for row in self._load()}
            else:
                for faq_id in changed:
                    self._by_id.pop(faq_id, None)
                self._by_id.update((row.id, row) for row in self._load(changed))
            self._rows = sorted(self._by_id.values(), key=lambda row: row.id)
            self._summary = _summarise(self._rows)
            self._version = version
            return self._rows

    def page(self, query: str = "", tag: str = "", missing: str = "", offset: int = 0, limit: int = 50) -> EntryPage:
        rows = self.rows()
        wanted = query.strip().lower()
        matching = [
            row
            for row in rows
            if (not wanted or wanted in row.haystack)
            and (not tag or tag in row.tags)
            and (not missing or missing in row.missing)
        ]
        _, missing_zh, missing_en = self._summary
        return EntryPage(matching[offset : offset + limit], len(matching), len(rows), missing_zh, missing_en)

    def tags(self) -> list[tuple[str, int]]:
        self.rows()
        return self._summary[0]

    def _load(self, only: set[str] | None = None) -> list[EntryRow]:
        columns = (FaqRecord.id, FaqRecord.questions, FaqRecord.answer, FaqRecord.answer_zh, FaqRecord.answer_en)
        query = select(*columns, FaqRecord.tags, FaqRecord.revision, FaqRecord.updated_at)
        if only is not None:
            query = query.where(FaqRecord.id.in_(list(only)))
        with self._db.session() as session:
            found = session.exec(query).all()
        rows = []
        for faq_id, questions, answer, zh, en, tags, revision, updated_at in found:
            # A plain `answer` counts for the language it is written in.
            has_zh = bool(zh) or (bool(answer) and is_chinese(answer))
            has_en = bool(en) or (bool(answer) and not is_chinese(answer))
            text = " ".join([faq_id, *questions, answer or "", zh or "", en or ""]).lower()
            title = questions[0] if questions else faq_id
            entry = FaqEntry(faq_id, list(questions), answer, zh, en)
            problems = tuple(dict.fromkeys(w.problem for w in answer_language_warnings(entry)))
            rows.append(
                EntryRow(
                    faq_id,
                    title,
                    len(questions),
                    tuple(tags or ()),
                    has_zh,
                    has_en,
                    revision,
                    updated_at,
                    text,
                    problems,
                )
            )
        return rows


def _summarise(rows: list[EntryRow]) -> tuple[list[tuple[str, int]], int, int]:
    counts: dict[str, int] = {}
    for row in rows:
        for tag in row.tags:
            counts[tag] = counts.get(tag, 0) + 1
    tags = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tags, sum(not row.has_zh for row in rows), sum(not row.has_en for row in rows)


@dataclass(frozen=True, slots=True)
class TestCase:
    id: int
    question: str
    expected_faq_id: str
    author: str


class DuplicateTest(ValueError):
    pass


class KbTests:
    """Saved test questions with the entry each must be answered with (`run.py kb test`, "Run tests")."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, question: str, expected_faq_id: str, author: str) -> TestCase:
        row = KbTestCase(question=question.strip(), expected_faq_id=expected_faq_id, author=author)
        try:
            with self._db.session() as session:
                session.add(row)
                session.flush()
        except IntegrityError as error:
            raise DuplicateTest(f"there is already a test {question!r} → {expected_faq_id}") from error
        return TestCase(row.id, row.question, row.expected_faq_id, row.author)

    def all(self) -> list[TestCase]:
        with self._db.session() as session:
            rows = session.exec(select(KbTestCase).order_by(KbTestCase.id)).all()
        return [TestCase(r.id, r.question, r.expected_faq_id, r.author) for r in rows]

    def remove(self, test_id: int) -> bool:
        with self._db.session() as session:
            return session.exec(delete(KbTestCase).where(KbTestCase.id == test_id)).rowcount > 0
