"""Tables of the in-process job backend: queued jobs and the once-per-tick ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Model, utcnow

JOB_STATES = ("queued", "running", "done", "failed")


class Job(Model):
    """A unit of background work: a dotted path and JSON keyword arguments.

    A worker claims a job by moving it from ``queued`` to ``running`` in one conditional UPDATE;
    a claim older than its lease is taken back, so a killed worker loses nothing.
    """

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_at", "state", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(255))
    kwargs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class PeriodicTick(Model):
    """One row per (task, tick) that ran: the primary key makes a tick run once across workers."""

    __tablename__ = "periodic_tick"

    task: Mapped[str] = mapped_column(String(255), primary_key=True)
    tick: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(128))
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
