"""Background work (public API): ``enqueue`` one-off jobs, declare ``PeriodicTask`` timers.

A job is a dotted path plus JSON-serialisable keyword arguments, so every backend can run it and it
survives a restart. Jobs must be idempotent: a job may run again after a worker dies mid-way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

__all__ = ["PeriodicTask", "dotted_path", "enqueue"]


@dataclass(frozen=True)
class PeriodicTask:
    """A timer: run ``func`` (a dotted path) every ``seconds``, once per tick across all workers.

    ``name`` is ``<plugin>.<task>``.
    """

    name: str
    func: str
    seconds: int
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError(f"periodic task {self.name!r}: seconds must be at least 1")


def dotted_path(func: str | Callable[..., Any]) -> str:
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

    ``key`` makes the job unique: enqueuing the same key again while it exists does nothing and
    returns ``None``. Inside a transaction the job is committed with it (or not at all).
    """
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise TypeError(f"job arguments must be JSON-serialisable: {exc}") from None
    backend = current_app.extensions["frontdesk.jobs"]
    return backend.enqueue(
        dotted_path(func), kwargs, key=key, run_at=run_at, max_attempts=max_attempts
    )
