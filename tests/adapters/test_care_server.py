"""The server runs scheduled jobs: started in the app's lifespan, a due job is done without any command."""

from __future__ import annotations

import time

from bot.care.alerts import NOTIFY
from storage.models import JobStatus, utcnow


def test_the_running_server_does_a_due_job(live_runtime, live_server):
    jobs = live_runtime.care.jobs
    job_id, _ = jobs.schedule(NOTIFY, utcnow(), {"recipient": "ann", "text": "Customer #1 needs attention"})
    deadline = time.monotonic() + 30  # the loop wakes every WARMDESK_JOBS_IDLE_SECONDS (5 s)
    while jobs.get(job_id).status != JobStatus.DONE:
        assert time.monotonic() < deadline, jobs.get(job_id)
        time.sleep(0.05)
    assert jobs.get(job_id).outcome == "inbox only (no Slack configured)"
