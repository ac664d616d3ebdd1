"""Job backends: in-process (jobs stored in the database) and RQ on Redis."""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from frontdesk.db import call_after_commit, session, transaction, utcnow
from frontdesk.models import Job

log = logging.getLogger(__name__)


def resolve(dotted: str) -> Any:
    """The callable named by a dotted path (``package.module.function``)."""
    module_name, _, attr = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part)
    return target


class InProcessBackend:
    """Jobs are rows of the ``job`` table, run by threads in ``frontdesk run``/``frontdesk worker``.

    With ``JOBS_EAGER`` the job runs right after the enqueuing transaction commits, in the caller.
    """

    name = "inprocess"

    def __init__(self, app: Flask) -> None:
        self.app = app

    def enqueue(
        self,
        func: str,
        kwargs: dict[str, Any],
        *,
        key: str | None,
        run_at: datetime | None,
        max_attempts: int,
    ) -> str | None:
        with transaction():
            if key is not None and session.scalar(select(Job.id).where(Job.key == key)):
                return None
            job = Job(
                func=func,
                kwargs=kwargs,
                key=key,
                run_at=run_at or utcnow(),
                max_attempts=max_attempts,
            )
            session.add(job)
            session.flush()
            job_id = job.id
            if self.app.config.get("JOBS_EAGER"):
                from frontdesk.jobs.runner import run_job_by_id

                call_after_commit(run_job_by_id, job_id=job_id, worker="eager")
        return str(job_id)


def init_jobs(app: Flask) -> None:
    if app.config["JOBS_BACKEND"] == "rq":
        from frontdesk.jobs.rq_backend import RQBackend

        app.extensions["frontdesk.jobs"] = RQBackend(app)
    else:
        app.extensions["frontdesk.jobs"] = InProcessBackend(app)
