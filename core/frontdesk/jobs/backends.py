"""Job backends: in-process (jobs stored in the database) and RQ on Redis; shared settings."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import Insert, bindparam, delete, func, insert, select, update

from frontdesk.db import call_after_commit, session, transaction, utcnow
from frontdesk.statements import execute
from frontdesk.models import Job, PeriodicTick

log = logging.getLogger(__name__)

JOB_STATES = ("queued", "running", "done", "failed")
PERIODIC_MAX_ATTEMPTS = 1  # a failed periodic run is not retried: the next tick runs it again


def setting(app: Flask, name: str) -> Any:
    """A job setting from the app's config, falling back to its default in ``config.DEFAULTS``."""
    from frontdesk.config import DEFAULTS

    value = app.config.get(name)
    return DEFAULTS[name] if value is None else value


def backoff(app: Flask, attempt: int) -> timedelta:
    """Wait before retrying after failed ``attempt`` (1-based): 10 s, 20 s, 40 s, ... up to 1 h."""
    base = float(setting(app, "JOB_RETRY_DELAY"))
    return timedelta(seconds=min(base * 2 ** (attempt - 1), 3600.0))


def resolve(dotted: str) -> Any:
    """The callable named by a dotted path (``package.module.function``)."""
    module_name, _, attr = dotted.rpartition(".")
    if not module_name:
        raise ValueError(f"{dotted!r} is not a dotted path")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part)
    return target


def in_transaction() -> bool:
    """Whether the current thread is inside a ``frontdesk.db.transaction()`` block."""
    from frontdesk.db import _DEPTH, get_db

    return has_app_context() and get_db().Session().info.get(_DEPTH, 0) > 0


def get_backend(app: Flask | None = None) -> Any:
    """The job backend of ``app`` (default: the current app)."""
    return (app or current_app).extensions["frontdesk.jobs"]


@dataclass(frozen=True)
class JobRow:
    """One job as ``frontdesk jobs list`` shows it, whatever the backend."""

    id: str
    state: str
    func: str
    key: str | None
    attempts: int
    max_attempts: int
    run_at: datetime | None
    last_error: str | None


class JobNotFound(LookupError):
    """No job has the given id."""


class JobNotRetryable(ValueError):
    """The job exists but is not in a state that can be retried."""


def _insert_ignoring(model: type, values: dict[str, Any], conflict_columns: list[str]) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL."""
    stmt = _dialect_insert(session.get_bind().dialect.name)(model).values(values)
    return stmt.on_conflict_do_nothing(index_elements=conflict_columns)


def _dialect_insert(dialect: str) -> Callable[..., Insert]:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"jobs need SQLite or PostgreSQL, not {dialect}")
    return dialect_insert  # type: ignore[no-any-return]


# Queuing a job is on the path of every write that sends mail or notifies: its statements are
# built once (per dialect) and run with parameters, not rebuilt around literal values each time.
_JOB = Job.__table__
# A finished job gives its key up, so the same work can be queued again later.
_FREE_KEY = (
    update(_JOB)
    .where(_JOB.c.key == bindparam("job_key"), _JOB.c.state.in_(("done", "failed")))
    .values(key=None)
)
_INSERT_JOB = insert(_JOB).returning(_JOB.c.id)
_INSERT_KEYED_JOB: dict[str, Insert] = {}


def _insert_keyed_job(dialect: str) -> Insert:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id`` for ``dialect``, built once."""
    stmt = _INSERT_KEYED_JOB.get(dialect)
    if stmt is None:
        stmt = _dialect_insert(dialect)(_JOB).on_conflict_do_nothing(index_elements=["key"])
        stmt = _INSERT_KEYED_JOB.setdefault(dialect, stmt.returning(_JOB.c.id))
    return stmt


class InProcessBackend:
    """Jobs are rows of the ``job`` table, run by threads in ``frontdesk run``/``frontdesk worker``.

    With ``JOBS_EAGER`` a due job runs right after the enqueuing transaction commits, in the
    caller (tests and one-shot scripts).
    """

    name = "inprocess"

    def __init__(self, app: Flask) -> None:
        self.app = app
        # Set by a worker running in this process so new jobs start without waiting for a poll.
        self.notify: Callable[[], None] | None = None

    def enqueue(
        self,
        func: str,
        kwargs: dict[str, Any],
        *,
        key: str | None,
        run_at: datetime | None,
        max_attempts: int,
    ) -> str | None:
        now = utcnow()
        values = {
            "func": func,
            "kwargs": kwargs,
            "key": key,
            "state": "queued",
            "run_at": run_at or now,
            "attempts": 0,
            "max_attempts": max_attempts,
            "created_at": now,
        }
        with transaction():
            conn = session.connection()
            if key is not None:
                insert_keyed = _insert_keyed_job(conn.dialect.name)
                job_id = execute(conn, insert_keyed, values).scalar()
                # The key is taken: by a finished job, which gives it up, or by one still
                # waiting or running, which keeps it (and the second INSERT skips the row too).
                # Most keys are new, so the common case is one statement.
                if job_id is None and conn.execute(_FREE_KEY, {"job_key": key}).rowcount:
                    job_id = conn.execute(insert_keyed, values).scalar()
            else:
                job_id = execute(conn, _INSERT_JOB, values).scalar()
            if job_id is None:
                return None
            if self.app.config.get("JOBS_EAGER") and values["run_at"] <= now:
                from frontdesk.jobs.runner import run_job_by_id

                call_after_commit(run_job_by_id, job_id=job_id, worker="eager")
            elif self.notify is not None:
                call_after_commit(self.notify)
        return str(job_id)

    def claim_tick(self, task: Any, tick: int, worker: str) -> str | None:
        """Record that ``worker`` runs ``tick`` of ``task`` and queue its job; ``None`` if taken."""
        with transaction():
            row = {"task": task.name, "tick": tick, "worker": worker, "ran_at": utcnow()}
            stmt = _insert_ignoring(PeriodicTick, row, ["task", "tick"])
            if session.execute(stmt.returning(PeriodicTick.tick)).first() is None:
                return None  # another worker has this tick
            return self.enqueue(
                task.func,
                dict(task.kwargs),
                key=task.job_key(tick),
                run_at=None,
                max_attempts=PERIODIC_MAX_ATTEMPTS,
            )

    def prune(self, tasks: dict[str, Any]) -> None:
        """Delete old finished jobs and the tick ledger of ticks no worker will contend for."""
        now = utcnow()
        keep = timedelta(seconds=float(setting(self.app, "JOBS_KEEP_SECONDS")))
        with transaction():
            session.execute(
                delete(Job)
                .where(Job.state == "done", Job.finished_at < now - keep)
                .execution_options(synchronize_session=False)
            )
            for task in tasks.values():
                current = task.tick_at(now.timestamp())
                session.execute(
                    delete(PeriodicTick)
                    .where(PeriodicTick.task == task.name, PeriodicTick.tick < current - 1)
                    .execution_options(synchronize_session=False)
                )
            stale = now - max(keep, timedelta(days=30))
            session.execute(
                delete(PeriodicTick)
                .where(PeriodicTick.task.not_in(list(tasks) or [""]), PeriodicTick.ran_at < stale)
                .execution_options(synchronize_session=False)
            )

    def list_jobs(self, state: str | None = None, limit: int = 50) -> list[JobRow]:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if state:
            query = query.where(Job.state == state)
        rows = [_row(job) for job in session.scalars(query)]
        session.commit()  # end the read transaction
        return rows

    def count_jobs(self) -> dict[str, int]:
        counts = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        session.commit()
        return {state: counts.get(state, 0) for state in JOB_STATES}

    def retry_job(self, job_id: str) -> JobRow:
        """Queue a failed (or waiting) job to run now, with its attempts counted afresh."""
        try:
            number = int(job_id)
        except ValueError:
            raise JobNotFound(f"no job with id {job_id!r} (job ids are numbers)") from None
        with transaction():
            job = session.get(Job, number, populate_existing=True)
            if job is None:
                raise JobNotFound(f"no job with id {number}")
            if job.state not in ("failed", "queued"):
                raise JobNotRetryable(
                    f"job {number} is {job.state}; only failed or waiting jobs can be retried"
                )
            job.state, job.run_at, job.attempts = "queued", utcnow(), 0
            job.finished_at = job.claimed_by = job.claimed_at = None
        if self.notify is not None:
            self.notify()
        return _row(job)


def _row(job: Job) -> JobRow:
    return JobRow(
        id=str(job.id),
        state=job.state,
        func=job.func,
        key=job.key,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_at=job.run_at,
        last_error=job.last_error,
    )


def init_jobs(app: Flask) -> None:
    """Install the configured job backend in ``app.extensions["frontdesk.jobs"]``."""
    if app.config["JOBS_BACKEND"] == "rq":
        from frontdesk.jobs.rq_backend import RQBackend

        app.extensions["frontdesk.jobs"] = RQBackend(app)
    else:
        app.extensions["frontdesk.jobs"] = InProcessBackend(app)
