"""Running stored jobs: claim, call, record the outcome, retry with backoff."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from sqlalchemy import update

from frontdesk.db import session, transaction, utcnow
from frontdesk.models import Job

log = logging.getLogger(__name__)


def backoff(attempt: int) -> timedelta:
    """Wait before retry ``attempt`` (1-based): 10 s, 20 s, 40 s, ... capped at one hour."""
    return timedelta(seconds=min(10 * 2 ** (attempt - 1), 3600))


def claim(job_id: int, worker: str) -> bool:
    """Take a queued job for ``worker``; ``False`` when another worker has it."""
    with transaction():
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued")
            .values(state="running", claimed_by=worker, claimed_at=utcnow(), attempts=Job.attempts + 1)
        )
    return result.rowcount == 1


def run_job_by_id(job_id: int, worker: str) -> bool:
    """Claim and run one job; returns whether it succeeded."""
    from frontdesk.jobs.backends import resolve

    if not claim(job_id, worker):
        return False
    job = session.get(Job, job_id)
    session.refresh(job)
    try:
        resolve(job.func)(**job.kwargs)
    except Exception as exc:
        session.rollback()
        job = session.get(Job, job_id)
        with transaction():
            job.last_error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
            if job.attempts >= job.max_attempts:
                job.state = "failed"
                job.finished_at = utcnow()
            else:
                job.state = "queued"
                job.run_at = utcnow() + backoff(job.attempts)
            job.claimed_by = None
        log.exception("job %s (%s) failed on attempt %s", job_id, job.func, job.attempts)
        return False
    with transaction():
        job.state = "done"
        job.finished_at = utcnow()
        job.last_error = None
    return True
