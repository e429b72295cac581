"""FAQ entries with their full revision history (every change is a revision: history and rollback)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from knowledge.entry import FaqEntry
from storage.db import Database
from storage.models import FaqRecord, FaqRevision, utcnow


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    faq_id: str
    revision: int
    action: str
    author: str
    note: str | None
    created_at: datetime
    entry: FaqEntry | None


@dataclass(frozen=True, slots=True)
class SaveReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class UnknownFaq(LookupError):
    pass


class RevisionConflict(RuntimeError):
    """Someone saved the entry after the editor opened it: `current` is what is live now (None: removed)."""

    def __init__(self, faq_id: str, expected: int, current: FaqEntry | None, current_revision: int) -> None:
        super().__init__(f"{faq_id} changed since revision {expected}: it is at revision {current_revision} now")
        self.faq_id, self.expected, self.current, self.current_revision = faq_id, expected, current, current_revision


class FaqRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[FaqEntry]:
        columns = (FaqRecord.id, FaqRecord.questions, FaqRecord.answer, FaqRecord.answer_zh, FaqRecord.answer_en)
        with self._db.session() as session:  # plain rows, not ORM objects: 20,000 entries load in a fraction
            rows = session.exec(select(*columns, FaqRecord.tags).order_by(FaqRecord.id)).all()
        return [FaqEntry(i, list(q), a, zh, en, list(tags or [])) for i, q, a, zh, en, tags in rows]

    def get(self, faq_id: str) -> FaqEntry | None:
        with self._db.session() as session:
            record = session.get(FaqRecord, faq_id)
            return _to_entry(record) if record else None

    def count(self) -> int:
        with self._db.session() as session:
            return session.exec(select(func.count()).select_from(FaqRecord)).one()

    def has_history(self) -> bool:
        """False only for a knowledge base nobody has ever written to (so the demo may be seeded)."""
        with self._db.session() as session:
            return session.exec(select(FaqRevision.id).limit(1)).first() is not None

    def version(self) -> int:
        """Grows with every change to any entry: a cheap way to notice edits made by another process."""
        with self._db.session() as session:
            return session.exec(select(func.max(FaqRevision.id))).one() or 0

    def changes_since(self, version: int) -> int:
        """How many revisions were written after `version` (see `version()`)."""
        with self._db.session() as session:
            return session.exec(select(func.count()).select_from(FaqRevision).where(FaqRevision.id > version)).one()

    def save_many(self, entries: Iterable[FaqEntry], author: str, note: str | None = None) -> SaveReport:
        """Create or update entries in one transaction; unchanged entries get no new revision."""
        created = updated = unchanged = 0
        with self._db.session() as session:
            for entry in entries:
                outcome = _save(session, entry, author, note)
                created += outcome == "create"
                updated += outcome == "update"
                unchanged += outcome == "unchanged"
        return SaveReport(created, updated, unchanged)

    def save_in_chunks(
        self,
        entries: list[FaqEntry],
        author: str,
        note: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        chunk: int = 500,
    ) -> SaveReport:
        """Like save_many, one transaction per `chunk` entries: a long import never holds the database's write lock
        for long (SQLite has one writer; chat messages are logged between chunks). Entries already saved stay saved
        if a later chunk fails; importing the same file again completes it (unchanged entries are skipped)."""
        created = updated = unchanged = 0
        for start in range(0, len(entries), chunk):
            part = entries[start : start + chunk]
            ids = [entry.id for entry in part]
            with self._db.session() as session:
                records = {r.id: r for r in session.exec(select(FaqRecord).where(FaqRecord.id.in_(ids))).all()}
                latest = select(FaqRevision.faq_id, func.max(FaqRevision.revision)).where(FaqRevision.faq_id.in_(ids))
                last = dict(session.exec(latest.group_by(FaqRevision.faq_id)).all())
                for entry in part:
                    record = records.get(entry.id)
                    if record is not None and _to_entry(record) == entry:
                        unchanged += 1
                        continue
                    outcome = "create" if record is None else "update"
                    created += outcome == "create"
                    updated += outcome == "update"
                    number = last.get(entry.id, 0) + 1
                    last[entry.id] = number
                    record = record or FaqRecord(id=entry.id, questions=[])
                    records[entry.id] = record
                    _fill(record, entry, number)
                    session.add(record)
                    session.add(
                        FaqRevision(
                            faq_id=entry.id,
                            revision=number,
                            action=outcome,
                            content=entry.to_dict(),
                            author=author,
                            note=note,
                        )
                    )
            if progress:
                progress(min(start + chunk, len(entries)), len(entries))
        return SaveReport(created, updated, unchanged)

    def save(self, entry: FaqEntry, author: str, note: str | None = None) -> str:
        with self._db.session() as session:
            return _save(session, entry, author, note)

    def save_if_unchanged(self, entry: FaqEntry, expected_revision: int, author: str, note: str | None = None) -> str:
        """Save only when the entry is still at `expected_revision` (0: must not exist yet): optimistic locking
        for editors. Two concurrent saves both passing the check collide on the revision's unique key."""
        try:
            with self._db.session() as session:
                record = session.get(FaqRecord, entry.id)
                if (record.revision if record else 0) != expected_revision:
                    raise RevisionConflict(
                        entry.id,
                        expected_revision,
                        _to_entry(record) if record else None,
                        record.revision if record else 0,
                    )
                return _save(session, entry, author, note)
        except IntegrityError as error:
            current = self.get(entry.id)
            raise RevisionConflict(entry.id, expected_revision, current, self.revision_of(entry.id)) from error

    def revision_of(self, faq_id: str) -> int:
        """The live revision of an entry; 0 when there is none (never created, or removed)."""
        with self._db.session() as session:
            record = session.get(FaqRecord, faq_id)
            return record.revision if record else 0

    def removed(self) -> list[RevisionInfo]:
        """Entries whose newest revision is a removal, newest first: what an editor may restore."""
        with self._db.session() as session:
            newest = (
                select(FaqRevision.faq_id, func.max(FaqRevision.revision).label("revision"))
                .group_by(FaqRevision.faq_id)
                .subquery()
            )
            rows = session.exec(
                select(FaqRevision)
                .join(newest, (FaqRevision.faq_id == newest.c.faq_id) & (FaqRevision.revision == newest.c.revision))
                .where(FaqRevision.action == "remove")
                .order_by(FaqRevision.id.desc())
            ).all()
        return [RevisionInfo(r.faq_id, r.revision, r.action, r.author, r.note, r.created_at, None) for r in rows]

    def restore(self, faq_id: str, author: str) -> FaqEntry:
        """Bring a removed entry back with the content it had before it was removed."""
        for info in reversed(self.history(faq_id)):
            if info.entry is not None:
                return self.rollback(faq_id, info.revision, author)
        raise UnknownFaq(f"{faq_id} has no earlier content to restore")

    def remove(self, faq_id: str, author: str, note: str | None = None) -> None:
        with self._db.session() as session:
            record = session.get(FaqRecord, faq_id)
            if record is None:
                raise UnknownFaq(faq_id)
            session.add(_revision(session, faq_id, "remove", None, author, note))
            session.delete(record)

    def history(self, faq_id: str) -> list[RevisionInfo]:
        with self._db.session() as session:
            rows = session.exec(
                select(FaqRevision).where(FaqRevision.faq_id == faq_id).order_by(FaqRevision.revision)
            ).all()
        return [
            RevisionInfo(
                r.faq_id,
                r.revision,
                r.action,
                r.author,
                r.note,
                r.created_at,
                FaqEntry(**r.content) if r.content else None,
            )
            for r in rows
        ]

    def rollback(self, faq_id: str, revision: int, author: str) -> FaqEntry:
        """Make the content of `revision` live again, as a new revision (history is never rewritten)."""
        with self._db.session() as session:
            old = session.exec(
                select(FaqRevision).where(FaqRevision.faq_id == faq_id, FaqRevision.revision == revision)
            ).first()
            if old is None or old.content is None:
                raise UnknownFaq(f"{faq_id} has no revision {revision} with content")
            entry = FaqEntry(**old.content)
            _save(session, entry, author, f"rollback to revision {revision}", action="rollback")
            return entry


def _save(session: Session, entry: FaqEntry, author: str, note: str | None, action: str | None = None) -> str:
    record = session.get(FaqRecord, entry.id)
    if record is not None and _to_entry(record) == entry:
        return "unchanged"
    outcome = "create" if record is None else "update"
    revision = _revision(session, entry.id, action or outcome, entry, author, note)
    if record is None:
        record = FaqRecord(id=entry.id, questions=[])
    _fill(record, entry, revision.revision)
    session.add(record)
    session.add(revision)
    session.flush()
    return outcome


def _fill(record: FaqRecord, entry: FaqEntry, revision: int) -> None:
    record.questions = list(entry.questions)
    record.answer, record.answer_zh, record.answer_en = entry.answer, entry.answer_zh, entry.answer_en
    record.tags = list(entry.tags)
    record.revision = revision
    record.updated_at = utcnow()


def _revision(
    session: Session, faq_id: str, action: str, entry: FaqEntry | None, author: str, note: str | None
) -> FaqRevision:
    last = session.exec(select(func.max(FaqRevision.revision)).where(FaqRevision.faq_id == faq_id)).one()
    return FaqRevision(
        faq_id=faq_id,
        revision=(last or 0) + 1,
        action=action,
        content=entry.to_dict() if entry else None,
        author=author,
        note=note,
    )


def _to_entry(record: FaqRecord) -> FaqEntry:
    return FaqEntry(
        id=record.id,
        questions=list(record.questions),
        answer=record.answer,
        answer_zh=record.answer_zh,
        answer_en=record.answer_en,
        tags=list(record.tags or []),
    )
