"""FAQ drafts from traffic: proposed by resolved handoffs, deduplicated, decided by an editor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import select

from storage.db import Database
from storage.models import FaqDraft, FaqRecord, utcnow


def normalized(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    question: str
    answer: str
    language: str
    source: str
    count: int
    status: str


class DraftRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def propose(self, question: str, answer: str, language: str, source: str) -> Draft | None:
        """A pending draft for `question`; None when an entry already has that exact question. The same question
        proposed again counts on the pending draft instead of making a second one."""
        key = normalized(question)
        if not key or not answer.strip():
            return None
        with self._db.session() as session:
            for questions in session.exec(select(FaqRecord.questions)).all():
                if any(normalized(q) == key for q in questions):
                    return None
            row = session.exec(select(FaqDraft).where(FaqDraft.normalized == key, FaqDraft.status == "pending")).first()
            if row is not None:
                row.count += 1
            else:
                row = FaqDraft(
                    question=question.strip(), answer=answer.strip(), language=language, normalized=key, source=source
                )
            session.add(row)
            session.flush()
            return _draft(row)

    def pending(self) -> list[Draft]:
        with self._db.session() as session:
            rows = session.exec(
                select(FaqDraft).where(FaqDraft.status == "pending").order_by(FaqDraft.count.desc(), FaqDraft.id)
            ).all()
        return [_draft(row) for row in rows]

    def get(self, draft_id: int) -> Draft | None:
        with self._db.session() as session:
            row = session.get(FaqDraft, draft_id)
            return _draft(row) if row else None

    def decide(self, draft_id: int, status: str, editor: str, faq_id: str | None = None) -> bool:
        """Mark a pending draft approved (it became `faq_id`) or rejected; False when it was not pending."""
        with self._db.session() as session:
            row = session.get(FaqDraft, draft_id)
            if row is None or row.status != "pending":
                return False
            row.status, row.decided_by, row.decided_at, row.faq_id = status, editor, utcnow(), faq_id
            session.add(row)
            return True


def _draft(row: FaqDraft) -> Draft:
    return Draft(row.id, row.question, row.answer, row.language, row.source, row.count, row.status)
