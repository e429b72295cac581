"""FAQ drafts from traffic, deduplicated, decided by an editor: new entries (a resolved handoff's question and the
agent's answer, or an editor's answer to a gap) and new wordings of an existing entry (a customer's clarify pick,
or an editor attaching a gap question)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import select

from storage.db import Database
from storage.models import FaqDraft, FaqRecord, utcnow

MIN_PASTED_ANSWER = 12  # characters (without spaces and punctuation): shorter answers match by accident


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
    kind: str = "entry"  # entry | question
    faq_id: str | None = None  # kind "question": the entry the wording is for


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
            row = session.exec(
                select(FaqDraft).where(
                    FaqDraft.normalized == key, FaqDraft.status == "pending", FaqDraft.kind == "entry"
                )
            ).first()
            if row is not None:
                row.count += 1
            else:
                row = FaqDraft(
                    question=question.strip(), answer=answer.strip(), language=language, normalized=key, source=source
                )
            session.add(row)
            session.flush()
            return _draft(row)

    def propose_question(self, question: str, faq_id: str, language: str, source: str) -> Draft | None:
        """A pending draft adding `question` to entry `faq_id`; None when some entry already has it. The same
        wording for the same entry proposed again counts on the pending draft."""
        key = normalized(question)
        if not key:
            return None
        with self._db.session() as session:
            for questions in session.exec(select(FaqRecord.questions)).all():
                if any(normalized(q) == key for q in questions):
                    return None
            row = session.exec(
                select(FaqDraft).where(
                    FaqDraft.normalized == key,
                    FaqDraft.status == "pending",
                    FaqDraft.kind == "question",
                    FaqDraft.faq_id == faq_id,
                )
            ).first()
            if row is not None:
                row.count += 1
            else:
                row = FaqDraft(
                    question=question.strip(),
                    answer="",
                    language=language,
                    normalized=key,
                    source=source,
                    kind="question",
                    faq_id=faq_id,
                )
            session.add(row)
            session.flush()
            return _draft(row)

    def entry_answered_with(self, answer: str) -> str | None:
        """The entry whose answer the agent sent (pasted whole, perhaps with a greeting around it), if any: the KB
        had the answer and the bot missed the customer's wording."""
        said = normalized(answer)
        if len(said) < MIN_PASTED_ANSWER:
            return None
        columns = (FaqRecord.id, FaqRecord.answer, FaqRecord.answer_zh, FaqRecord.answer_en)
        with self._db.session() as session:
            for faq_id, *answers in session.exec(select(*columns).order_by(FaqRecord.id)).all():
                if any(len(key := normalized(a or "")) >= MIN_PASTED_ANSWER and key in said for a in answers):
                    return faq_id
        return None

    def count_on(self, draft_id: int, times: int = 1) -> Draft | None:
        """A near-duplicate of a pending draft was proposed: count it there."""
        with self._db.session() as session:
            row = session.get(FaqDraft, draft_id)
            if row is None or row.status != "pending":
                return None
            row.count += times
            session.add(row)
            session.flush()
            return _draft(row)

    def pending(self, kind: str | None = None) -> list[Draft]:
        with self._db.session() as session:
            query = select(FaqDraft).where(FaqDraft.status == "pending")
            if kind is not None:
                query = query.where(FaqDraft.kind == kind)
            rows = session.exec(query.order_by(FaqDraft.count.desc(), FaqDraft.id)).all()
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
            row.status, row.decided_by, row.decided_at = status, editor, utcnow()
            row.faq_id = faq_id or row.faq_id
            session.add(row)
            return True


def _draft(row: FaqDraft) -> Draft:
    return Draft(
        row.id, row.question, row.answer, row.language, row.source, row.count, row.status, row.kind, row.faq_id
    )
