"""Background work (public API): ``enqueue`` one-off jobs, declare ``PeriodicTask`` timers.

A job is a dotted path plus JSON-serialisable keyword arguments, so every backend can run it and it
survives a restart. Jobs must be idempotent: a job may run again after a worker dies mid-way, and a
periodic task may see the same data twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

__all__ = ["JobInfo", "PeriodicTask", "current_job", "dotted_path", "enqueue"]

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class PeriodicTask:
    """A timer: run ``func`` (a dotted path) every ``seconds``, once per tick across all workers.

    ``name`` is ``<plugin>.<task>``. Tick ``n`` is the interval starting at ``n * seconds`` since
    the Unix epoch, so every worker agrees on it without talking to the others.
    """

    name: str
    func: str
    seconds: int
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError(f"periodic task {self.name!r}: seconds must be at least 1")

    def tick_at(self, epoch_seconds: float) -> int:
        """The tick number that ``epoch_seconds`` falls in."""
        return int(epoch_seconds // self.seconds)

    def job_key(self, tick: int) -> str:
        """The key of the job that runs ``tick`` (unique per task and tick)."""
        return f"periodic:{self.name}:{tick}"


@dataclass(frozen=True)
class JobInfo:
    """What a running job may know about itself (for logging and idempotency checks)."""

    id: str
    func: str
    key: str | None
    attempt: int


_current: ContextVar[JobInfo | None] = ContextVar("frontdesk_current_job", default=None)


def current_job() -> JobInfo | None:
    """The job running in this thread, or ``None`` outside a job."""
    return _current.get()


def dotted_path(func: str | Callable[..., Any]) -> str:
    """The importable ``module.function`` name of ``func`` (strings are returned unchanged)."""
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def enqueue(
    func: str | Callable[..., Any],
    *,
    key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 5,
    **kwargs: Any,
) -> str | None:
    """Queue ``func(**kwargs)`` to run in the background; returns the job's id.

    ``key`` makes the job unique: while a job with that key is waiting or running, enqueuing the
    same key again does nothing and returns ``None``. ``run_at`` (an aware datetime) delays the
    job. A failing job is retried with exponential backoff up to ``max_attempts`` runs in all.
    Inside a transaction the job is queued only if the transaction commits.
    """
    from frontdesk.jobs.backends import resolve

    path = dotted_path(func)
    try:
        target = resolve(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"job function {path!r} cannot be imported: {exc}") from None
    if not callable(target):
        raise TypeError(f"job function {path!r} is not callable")
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job arguments must be JSON-serialisable: {exc}") from None
    if key is not None and (not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH):
        raise ValueError(
            f"job key must be a non-empty string of at most {MAX_KEY_LENGTH} characters"
        )
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("run_at must be an aware datetime (use frontdesk.db.utcnow())")
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be a positive integer, got {max_attempts!r}")
    backend = current_app.extensions["frontdesk.jobs"]
    return backend.enqueue(path, kwargs, key=key, run_at=run_at, max_attempts=max_attempts)
