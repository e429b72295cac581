"""Scheduled jobs in the CRM database: stored with a due time, claimed with a lease, finished once.

Claiming takes the due rows in due-time order (on PostgreSQL in one `UPDATE … WHERE id IN (SELECT …) RETURNING`).
On PostgreSQL the candidates are read with `FOR UPDATE SKIP LOCKED`, so several workers take disjoint batches
without waiting on each other; every claim is also a conditional UPDATE, which is what keeps SQLite (one worker;
SQLAlchemy emits no row lock there) and a crashed worker's leftovers honest. A worker that dies leaves its rows
`running` until `lease_until`; after that they are claimable again. Finishing checks the claim token, so a worker
whose lease ran out cannot finish (or retry) a job another worker has taken over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import JobStatus, ScheduledJob, utcnow

ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    customer_id: int | None
    attempts: int  # including this one
    max_attempts: int
    token: str


class JobRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def schedule(
        self,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        *,
        customer_id: int | None = None,
        dedup_key: str | None = None,
        max_attempts: int = 6,
        created_by: str = "system",
    ) -> tuple[int, bool]:
        """Store a job; the same `dedup_key` twice stores it once. Returns (id, created)."""
        row = ScheduledJob(
            kind=kind,
            payload=payload or {},
            customer_id=customer_id,
            dedup_key=dedup_key,
            due_at=due_at,
            max_attempts=max_attempts,
            created_by=created_by,
        )
        try:
            with self._db.session() as session:
                session.add(row)
                session.flush()
                return row.id, True
        except IntegrityError:
            if dedup_key is None:
                raise
            with self._db.session() as session:
                return session.exec(select(ScheduledJob.id).where(ScheduledJob.dedup_key == dedup_key)).one(), False

    def claim_due(self, now: datetime, limit: int, lease: timedelta, worker: str) -> list[ClaimedJob]:
        """Take up to `limit` due jobs (oldest due first) for `lease`; nobody else gets them meanwhile."""
        claimable = or_(
            and_(ScheduledJob.status == JobStatus.PENDING, ScheduledJob.due_at <= now),
            and_(ScheduledJob.status == JobStatus.RUNNING, ScheduledJob.lease_until <= now),
        )
        token = f"{worker}/{uuid.uuid4().hex[:12]}"  # one claim per batch; finishing checks it
        candidates = (
            select(ScheduledJob.id)
            .where(claimable)
            .order_by(ScheduledJob.due_at, ScheduledJob.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(ScheduledJob)
            .values(
                status=JobStatus.RUNNING,
                lease_until=now + lease,
                claimed_by=token,
                attempts=ScheduledJob.attempts + 1,
            )
            .returning(
                ScheduledJob.id,
                ScheduledJob.kind,
                ScheduledJob.payload,
                ScheduledJob.customer_id,
                ScheduledJob.attempts,
                ScheduledJob.max_attempts,
                ScheduledJob.due_at,
            )
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as session:
            if self._db.engine.dialect.name == "postgresql":
                # One round trip: UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING ….
                claim = claim.where(ScheduledJob.id.in_(candidates), claimable)
            else:
                # SQLite takes its one write lock at the first write: read the candidates first (WAL readers
                # block nobody), so chat messages never wait behind the scan. The repeated `claimable` keeps
                # the claim honest without row locks.
                ids = session.exec(candidates).all()
                if not ids:
                    return []
                claim = claim.where(ScheduledJob.id.in_(ids), claimable)
            rows = session.execute(claim).all()
        rows.sort(key=lambda row: (row.due_at, row.id))
        return [
            ClaimedJob(row.id, row.kind, dict(row.payload), row.customer_id, row.attempts, row.max_attempts, token)
            for row in rows
        ]

    def finish(self, job: ClaimedJob, now: datetime, outcome: str = "done") -> bool:
        return self._move(job, status=JobStatus.DONE, finished_at=now, outcome=outcome[:200], lease_until=None)

    def retry(self, job: ClaimedJob, at: datetime, error: str) -> bool:
        return self._move(job, status=JobStatus.PENDING, due_at=at, last_error=error[:2000], lease_until=None)

    def fail(self, job: ClaimedJob, now: datetime, error: str) -> bool:
        return self._move(job, status=JobStatus.FAILED, finished_at=now, last_error=error[:2000], lease_until=None)

    def postpone(self, job: ClaimedJob, at: datetime, reason: str) -> bool:
        """Not an error: the job waits (quiet hours, a closed window); its attempt is given back."""
        return self._move(
            job,
            status=JobStatus.PENDING,
            due_at=at,
            outcome=reason[:200],
            lease_until=None,
            attempts=ScheduledJob.attempts - 1,
        )

    def _move(self, job: ClaimedJob, **values: Any) -> bool:
        with self._db.session() as session:
            return (
                session.exec(
                    update(ScheduledJob)
                    .where(
                        ScheduledJob.id == job.id,
                        ScheduledJob.status == JobStatus.RUNNING,
                        ScheduledJob.claimed_by == job.token,
                    )
                    .values(**values)
                ).rowcount
                == 1
            )

    def cancel(self, job_id: int, now: datetime | None = None) -> bool:
        """Cancel a job that has not run yet (a running one is cancelled too: its result is then discarded)."""
        with self._db.session() as session:
            return (
                session.exec(
                    update(ScheduledJob)
                    .where(ScheduledJob.id == job_id, ScheduledJob.status.in_(ACTIVE))
                    .values(status=JobStatus.CANCELLED, finished_at=now or utcnow(), lease_until=None)
                ).rowcount
                == 1
            )

    def cancel_matching(self, kind: str, dedup_prefix: str, now: datetime | None = None) -> int:
        with self._db.session() as session:
            return session.exec(
                update(ScheduledJob)
                .where(
                    ScheduledJob.kind == kind,
                    ScheduledJob.dedup_key.startswith(dedup_prefix),
                    ScheduledJob.status == JobStatus.PENDING,
                )
                .values(status=JobStatus.CANCELLED, finished_at=now or utcnow())
            ).rowcount

    def get(self, job_id: int) -> ScheduledJob | None:
        with self._db.session() as session:
            return session.get(ScheduledJob, job_id)

    def by_key(self, dedup_key: str) -> ScheduledJob | None:
        with self._db.session() as session:
            return session.exec(select(ScheduledJob).where(ScheduledJob.dedup_key == dedup_key)).first()

    def listing(self, status: str | None = None, kind: str | None = None, limit: int = 50) -> list[ScheduledJob]:
        query = select(ScheduledJob)
        if status:
            query = query.where(ScheduledJob.status == status)
        else:
            query = query.where(ScheduledJob.status.in_((*ACTIVE, JobStatus.FAILED)))
        if kind:
            query = query.where(ScheduledJob.kind == kind)
        with self._db.session() as session:
            return list(session.exec(query.order_by(ScheduledJob.due_at, ScheduledJob.id).limit(limit)).all())

    def counts(self) -> dict[str, int]:
        with self._db.session() as session:
            rows = session.exec(select(ScheduledJob.status, func.count()).group_by(ScheduledJob.status)).all()
        return dict(rows)
