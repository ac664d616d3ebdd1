"""The Redis backend: jobs go to an RQ queue; ``frontdesk worker`` processes run them.

A job is pushed only once the enqueuing transaction commits. A ``key`` is held in Redis
(``<prefix>key:<key>``, ``SET NX``) from the push until the job succeeds or fails for good.
Retries use RQ's ``Retry`` with the same backoff as the in-process backend; delayed jobs and
retries wait in RQ's scheduled registry, which the workers move to the queue when due.
Periodic ticks are claimed with ``SET <prefix>tick:<task>:<tick> NX EX``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import Flask

from frontdesk.db import call_after_commit, utcnow
from frontdesk.jobs.backends import (
    PERIODIC_MAX_ATTEMPTS,
    JobNotFound,
    JobNotRetryable,
    JobRow,
    backoff,
    in_transaction,
    setting,
)

log = logging.getLogger(__name__)

KEY_TTL = timedelta(days=7)  # a dedupe key outlives any sensible wait for a worker
RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
STATES = {
    "queued": "queued",
    "scheduled": "queued",
    "deferred": "queued",
    "started": "running",
    "finished": "done",
    "failed": "failed",
    "stopped": "failed",
    "canceled": "failed",
}


class RQBackend:
    """Jobs in an RQ queue on the Redis at ``REDIS_URL``."""

    name = "rq"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url = app.config["REDIS_URL"]
        if not self.url:
            raise RuntimeError("JOBS_BACKEND is 'rq' but REDIS_URL is not set")
        self.queue_name = str(setting(app, "JOBS_QUEUE"))
        self.prefix = str(setting(app, "JOBS_REDIS_PREFIX"))
        self._redis: Any = None

    @property
    def redis(self) -> Any:
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(self.url)
        return self._redis

    def queue(self) -> Any:
        from rq import Queue
        from rq.serializers import JSONSerializer

        return Queue(
            self.queue_name,
            connection=self.redis,
            serializer=JSONSerializer,
            default_timeout=int(setting(self.app, "JOB_TIMEOUT")),
        )

    def dedupe_key(self, key: str) -> str:
        return f"{self.prefix}key:{key}"

    def enqueue(
        self,
        func: str,
        kwargs: dict[str, Any],
        *,
        key: str | None,
        run_at: datetime | None,
        max_attempts: int,
    ) -> str | None:
        if key is not None and self.redis.exists(self.dedupe_key(key)):
            return None
        job_id = uuid.uuid4().hex
        push = partial(self._push, job_id, func, kwargs, key, run_at, max_attempts)
        if in_transaction():
            call_after_commit(push)
        else:
            push()
        return job_id

    def _push(
        self,
        job_id: str,
        func: str,
        kwargs: dict[str, Any],
        key: str | None,
        run_at: datetime | None,
        max_attempts: int,
    ) -> None:
        from rq import Callback, Retry

        now = utcnow()
        delay = max(run_at - now, timedelta(0)) if run_at else timedelta(0)
        if key is not None:
            ttl = int((delay + KEY_TTL).total_seconds())
            if not self.redis.set(self.dedupe_key(key), job_id, nx=True, ex=ttl):
                log.info("job %s not queued: a job with key %r is already waiting", func, key)
                return
        retry = None
        if max_attempts > 1:
            intervals = [int(backoff(self.app, n).total_seconds()) for n in range(1, max_attempts)]
            retry = Retry(max=max_attempts - 1, interval=intervals)
        queue = self.queue()
        job = queue.create_job(
            func,
            kwargs=kwargs,
            job_id=job_id,
            meta={
                "key": key,
                "dedupe": self.dedupe_key(key) if key else None,
                "max_attempts": max_attempts,
            },
            retry=retry,
            on_success=Callback(f"{__name__}.release_key"),
            on_failure=Callback(f"{__name__}.release_key_when_final"),
            result_ttl=int(setting(self.app, "JOBS_KEEP_SECONDS")),
        )
        if delay > timedelta(0):
            queue.schedule_job(job, run_at)
        else:
            queue.enqueue_job(job)

    def claim_tick(self, task: Any, tick: int, worker: str) -> str | None:
        """Take the Redis lock of ``tick`` of ``task`` and queue its job; ``None`` if taken."""
        lock = f"{self.prefix}tick:{task.name}:{tick}"
        if not self.redis.set(lock, worker, nx=True, ex=max(2 * task.seconds, 60)):
            return None
        return self.enqueue(
            task.func,
            dict(task.kwargs),
            key=task.job_key(tick),
            run_at=None,
            max_attempts=PERIODIC_MAX_ATTEMPTS,
        )

    def prune(self, tasks: dict[str, Any]) -> None:
        """Nothing to do: RQ expires finished jobs and tick locks expire on their own."""

    # --- operators -------------------------------------------------------------------------

    def _registries(self) -> list[tuple[str, Any]]:
        q = self.queue()
        return [
            ("running", q.started_job_registry),
            ("queued", q.scheduled_job_registry),
            ("failed", q.failed_job_registry),
            ("done", q.finished_job_registry),
        ]

    def list_jobs(self, state: str | None = None, limit: int = 50) -> list[JobRow]:
        from rq.job import Job as RQJob

        q = self.queue()
        ids: list[str] = []
        if state in (None, "queued"):
            ids += q.get_job_ids()
        for name, registry in self._registries():
            if state in (None, name):
                ids += registry.get_job_ids()
        jobs = RQJob.fetch_many(ids[:limit], connection=self.redis, serializer=q.serializer)
        return [_row(job) for job in jobs if job is not None]

    def count_jobs(self) -> dict[str, int]:
        counts = {"queued": self.queue().count}
        for name, registry in self._registries():
            counts[name] = counts.get(name, 0) + registry.count
        return counts

    def retry_job(self, job_id: str) -> JobRow:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RQJob

        q = self.queue()
        try:
            job = RQJob.fetch(job_id, connection=self.redis, serializer=q.serializer)
        except NoSuchJobError:
            raise JobNotFound(f"no job with id {job_id!r}") from None
        if job.id not in q.failed_job_registry.get_job_ids():
            raise JobNotRetryable(
                f"job {job_id} is {_row(job).state}; only failed jobs can be retried"
            )
        key = job.meta.get("dedupe")
        if key:
            self.redis.set(key, job.id, ex=int(KEY_TTL.total_seconds()))
        q.failed_job_registry.requeue(job)
        job.refresh()
        return _row(job)


def _row(job: Any) -> JobRow:
    status = job.get_status(refresh=False)
    state = STATES.get(getattr(status, "value", status) or "", "queued")
    max_attempts = int(job.meta.get("max_attempts") or 1)
    left = job.retries_left or 0
    attempts = max_attempts - left - (1 if state in ("queued", "running") else 0)
    return JobRow(
        id=job.id,
        state=state,
        func=job.func_name,
        key=job.meta.get("key"),
        attempts=max(0, attempts),
        max_attempts=max_attempts,
        run_at=job.enqueued_at or job.created_at,
        last_error=job.meta.get("last_error"),
    )


def _release(job: Any, connection: Any) -> None:
    key = job.meta.get("dedupe")
    if key:
        connection.eval(RELEASE_SCRIPT, 1, key, job.id)


def release_key(job: Any, connection: Any, result: Any, *args: Any, **kwargs: Any) -> None:
    """RQ success callback: the job's key may be used again."""
    _release(job, connection)


def release_key_when_final(job: Any, connection: Any, *exc_info: Any, **kwargs: Any) -> None:
    """RQ failure callback: free the key when no retry is left (the job failed for good)."""
    if not job.retries_left:
        _release(job, connection)
