"""Running stored jobs: claim, call, record the outcome, retry with backoff, take back lost claims.

A claim is a conditional UPDATE from ``queued`` (and due) to ``running`` that also counts the
attempt; only one worker's UPDATE can match. A ``running`` job whose ``claimed_at`` is older than
``JOB_LEASE_SECONDS`` belongs to a worker that died: it is claimed again like a due job. Workers
refresh ``claimed_at`` of the jobs they run (:func:`touch`), so a long job is never taken over
while its worker lives. Outcomes are written only while the claim is still ours.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update

from frontdesk.db import session, transaction, utcnow
from frontdesk.jobs import JobInfo, _current
from frontdesk.jobs.backends import backoff, resolve
from frontdesk.models import Job

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 8000
LOST = "the worker running it stopped (its lease expired) and no attempts are left"


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: its id, the attempt number and the claiming worker."""

    job_id: int
    attempt: int
    worker: str


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["JOB_LEASE_SECONDS"]))


def _claimable(now: datetime, cutoff: datetime, runnable_only: bool = True) -> Any:
    stale = and_(Job.state == "running", Job.claimed_at < cutoff)
    if runnable_only:
        stale = and_(stale, Job.attempts < Job.max_attempts)
    return or_(and_(Job.state == "queued", Job.run_at <= now), stale)


def _owned(claim: Claim) -> Any:
    return and_(
        Job.id == claim.job_id,
        Job.state == "running",
        Job.claimed_by == claim.worker,
        Job.attempts == claim.attempt,
    )


def _update(*criteria: Any, **values: Any) -> int:
    result = session.execute(
        update(Job).where(*criteria).values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount


def _claim_one(job_id: int, worker: str, now: datetime, cutoff: datetime) -> int | None:
    """The conditional UPDATE that claims one job; the attempt number, or ``None`` if taken."""
    return session.execute(
        update(Job)
        .where(Job.id == job_id, _claimable(now, cutoff))
        .values(state="running", claimed_by=worker, claimed_at=now, attempts=Job.attempts + 1)
        .returning(Job.attempts)
        .execution_options(synchronize_session=False)
    ).scalar()


def claim_due(worker: str, limit: int, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` due jobs (and jobs whose lease expired) for ``worker``."""
    if limit < 1:
        return []
    now = now or utcnow()
    cutoff = now - _lease()
    ids = list(
        session.scalars(
            select(Job.id)
            .where(_claimable(now, cutoff, runnable_only=False))
            .order_by(Job.run_at, Job.id)
            .limit(limit)
        )
    )
    session.commit()  # end the read snapshot before taking the write lock
    if not ids:
        return []
    claims = []
    with transaction():
        for job_id in sorted(ids):  # one lock order for every worker: no deadlocks
            attempt = _claim_one(job_id, worker, now, cutoff)
            if attempt is not None:
                claims.append(Claim(job_id, attempt, worker))
                continue
            # A job whose worker died on its last attempt is failed, not run once more.
            _update(
                Job.id == job_id,
                Job.state == "running",
                Job.claimed_at < cutoff,
                Job.attempts >= Job.max_attempts,
                state="failed",
                finished_at=now,
                last_error=LOST,
            )
    for claim in claims:
        if claim.attempt > 1:
            log.info("job %s: attempt %s claimed by %s", claim.job_id, claim.attempt, worker)
    return claims


def touch(claims: list[Claim]) -> None:
    """Renew the lease of jobs this worker still runs."""
    if not claims:
        return
    now = utcnow()
    with transaction():
        for claim in claims:
            _update(_owned(claim), claimed_at=now)


def release(claims: list[Claim]) -> None:
    """Give back claimed jobs that were never started (on shutdown), without using an attempt."""
    if not claims:
        return
    with transaction():
        for claim in claims:
            _update(
                _owned(claim),
                state="queued",
                attempts=Job.attempts - 1,
                claimed_by=None,
                claimed_at=None,
            )


def run_claimed(claim: Claim) -> str:
    """Run a claimed job and record the outcome: ``done``, ``retry``, ``failed`` or ``lost``.

    ``lost`` means the claim was taken over while the job ran (its outcome is not recorded).
    """
    job = session.get(Job, claim.job_id, populate_existing=True)
    if job is None:
        return "lost"
    func, kwargs, key, max_attempts = job.func, dict(job.kwargs), job.key, job.max_attempts
    session.commit()  # do not hold a transaction open while the job runs
    token = _current.set(JobInfo(str(claim.job_id), func, key, claim.attempt))
    try:
        resolve(func)(**kwargs)
        # Work the job left uncommitted is committed together with its outcome.
        with transaction():
            recorded = _update(_owned(claim), state="done", finished_at=utcnow(), last_error=None)
    except Exception as exc:
        session.rollback()
        log.warning(
            "job %s (%s) failed on attempt %s/%s: %s",
            claim.job_id,
            func,
            claim.attempt,
            max_attempts,
            exc,
            exc_info=True,
        )
        return _record_failure(claim, max_attempts, exc)
    finally:
        _current.reset(token)
    if not recorded:
        log.warning("job %s finished after another worker took it over", claim.job_id)
        return "lost"
    return "done"


def _record_failure(claim: Claim, max_attempts: int, exc: BaseException) -> str:
    now = utcnow()
    error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    error = error if len(error) <= MAX_ERROR_CHARS else "...\n" + error[-MAX_ERROR_CHARS:]
    final = claim.attempt >= max_attempts
    with transaction():
        if final:
            recorded = _update(_owned(claim), state="failed", finished_at=now, last_error=error)
        else:
            run_at = now + backoff(current_app, claim.attempt)
            recorded = _update(
                _owned(claim), state="queued", run_at=run_at, claimed_at=None, last_error=error
            )
    if not recorded:
        return "lost"
    return "failed" if final else "retry"


def run_job_by_id(job_id: int, worker: str) -> str | None:
    """Claim one job if it is due and run it (``JOBS_EAGER``); the outcome, or ``None``."""
    now = utcnow()
    with transaction():
        attempt = _claim_one(job_id, worker, now, now - _lease())
    if attempt is None:
        return None
    return run_claimed(Claim(job_id, attempt, worker))
