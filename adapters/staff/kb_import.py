"""Long uploads (more than SMALL_IMPORT entries) run as a background job with a progress page
(`/staff/kb/import/{job}`, refreshing itself each second; `?format=json` for scripts): saving in chunks of
SAVE_CHUNK entries, one transaction each, then embedding the new questions. Chat keeps answering with the old
index until the new one is ready; every step of the job waits for a gap in the chat traffic and the job's thread
runs at a lower CPU priority (knowledge/priority.py), so customers' messages go first."""

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import JSONResponse

from adapters.staff.auth import StaffAuth
from adapters.staff.kb import VIEWERS
from adapters.staff.pages import render
from bot.runtime import Runtime
from knowledge.entry import FaqEntry
from knowledge.priority import lower_thread_priority, shared_gate
from storage.faqs import SaveReport
from storage.staff import StaffMember

SMALL_IMPORT = 1000  # entries: smaller files are imported within the request, as before
SAVE_CHUNK = 100  # entries per transaction: chat messages are logged between them (SQLite has one writer)
KEEP_JOBS = 20


@dataclass
class ImportJob:
    id: int
    name: str
    total: int
    by: str
    errors: list = field(default_factory=list)  # lines skipped (skip_bad)
    stage: str = "saving"  # saving | indexing | done | failed
    saved: int = 0
    indexed: int = 0
    to_index: int = 0
    report: SaveReport | None = None
    problem: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def percent(self) -> int:
        if self.stage == "done":
            return 100
        saving = self.saved / self.total if self.total else 1.0
        indexing = self.indexed / self.to_index if self.to_index else 0.0
        return int(50 * saving + 50 * indexing)

    def as_json(self) -> dict:
        report = self.report
        return {
            "id": self.id,
            "stage": self.stage,
            "percent": self.percent,
            "saved": self.saved,
            "total": self.total,
            "indexed": self.indexed,
            "to_index": self.to_index,
            "created": report.created if report else None,
            "updated": report.updated if report else None,
            "unchanged": report.unchanged if report else None,
            "seconds": round((self.finished or time.monotonic()) - self.started, 1),
            "problem": self.problem,
        }


class ImportJobs:
    def __init__(self, runtime: Runtime, auth: StaffAuth) -> None:
        self._runtime, self._auth = runtime, auth
        self.small_import = SMALL_IMPORT
        self._jobs: dict[int, ImportJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, member: StaffMember, name: str, entries: list[FaqEntry], errors: list) -> ImportJob:
        job = ImportJob(next(self._ids), name, len(entries), member.actor, errors)
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-KEEP_JOBS]:
                self._jobs.pop(old)
        threading.Thread(target=self._run, args=(job, member, entries), name=f"kb-import-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: int) -> ImportJob | None:
        return self._jobs.get(job_id)

    def _run(self, job: ImportJob, member: StaffMember, entries: list[FaqEntry]) -> None:
        faqs, knowledge = self._runtime.faqs, self._runtime.knowledge
        gate = getattr(self._runtime.embedder, "gate", None) or shared_gate()
        lower_thread_priority()  # this thread only ever runs this job
        try:

            def saved(done: int, _total: int) -> None:
                job.saved = done
                gate.background_turn()  # the next chunk's transaction waits for a gap in the chat traffic

            def indexed(done: int, total: int) -> None:
                job.indexed, job.to_index = done, total

            with knowledge.import_in_progress():
                job.report = faqs.save_in_chunks(entries, member.actor, f"import {job.name}", saved, SAVE_CHUNK)
                job.stage = "indexing"
                knowledge.sync(faqs.all(), progress=indexed, keep_serving=True, background=True)
            job.stage = "done"
            detail = {
                "file": job.name,
                "entries": job.total,
                "created": job.report.created,
                "problems": len(job.errors),
            }
            self._auth.audit(member, "kb.import", "kb", detail)
        except Exception as error:  # shown on the progress page; what was saved stays saved
            job.stage, job.problem = "failed", error.__class__.__name__
            self._auth.audit(member, "kb.import_failed", "kb", {"file": job.name, "saved": job.saved})
        finally:
            job.finished = time.monotonic()


def import_jobs_router(auth: StaffAuth, jobs: ImportJobs) -> APIRouter:
    router = APIRouter(prefix="/staff/kb/import", include_in_schema=False)
    Viewer = Annotated[StaffMember, Depends(auth.require(*VIEWERS))]

    @router.get("/{job_id}")
    def progress(member: Viewer, request: Request, job_id: Annotated[int, Path(ge=1, le=2**31)], format: str = ""):
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such import (imports are remembered until the server restarts)")
        if format == "json":
            return JSONResponse(job.as_json())
        return render(request, "kb_import.html", member, job=job)

    return router
