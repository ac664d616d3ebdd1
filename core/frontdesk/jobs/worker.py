"""The in-process worker: runner threads for stored jobs, APScheduler for the timers.

One :class:`Worker` per process (``frontdesk worker``, or inside ``frontdesk run`` through
:func:`start_background_worker`). A dispatcher thread claims due jobs while runner threads are free;
APScheduler drives the timers: one per periodic task (aligned to its ticks), the lease heartbeat
and the housekeeping that deletes old finished jobs. Several workers, in one process or many,
share the work through the database alone.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from frontdesk.jobs.backends import setting
from frontdesk.jobs.runner import Claim, claim_due, release, run_claimed, touch

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUSEKEEPING_SECONDS = 3600


def worker_name() -> str:
    """A name unique to this worker: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Summary:
    """What a worker did: job outcomes and the periodic ticks it claimed."""

    outcomes: Counter = field(default_factory=Counter)
    ticks: list[str] = field(default_factory=list)

    @property
    def ran(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failed_attempts(self) -> int:
        return self.outcomes["retry"] + self.outcomes["failed"]

    def describe(self) -> str:
        parts = [f"ran {self.ran} job{'s' if self.ran != 1 else ''}"]
        labels = {
            "done": "done",
            "retry": "failed, will retry",
            "failed": "failed for good",
            "lost": "taken over by another worker",
        }
        parts += [f"{self.outcomes[k]} {label}" for k, label in labels.items() if self.outcomes[k]]
        ticks = len(self.ticks)
        parts.append(f"{ticks} periodic tick{'s' if ticks != 1 else ''} claimed")
        return ", ".join(parts)


def add_periodic_timers(scheduler: Any, tasks: dict[str, Any], fire: Any) -> None:
    """One APScheduler job per periodic task, firing at the start of each of its ticks."""
    from apscheduler.triggers.interval import IntervalTrigger

    for task in tasks.values():
        scheduler.add_job(
            fire,
            IntervalTrigger(seconds=task.seconds, start_date=EPOCH, timezone=UTC),
            args=[task],
            id=f"periodic:{task.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )


def new_scheduler() -> Any:
    """An APScheduler for a worker's timers (daemon thread, UTC, a small pool for timer runs)."""
    from apscheduler.executors.pool import ThreadPoolExecutor as SchedulerPool
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(daemon=True, timezone=UTC, executors={"default": SchedulerPool(4)})


class Worker:
    """Runs stored jobs with ``threads`` runner threads until :meth:`stop`."""

    def __init__(self, app: Flask, threads: int | None = None, name: str | None = None) -> None:
        self.app = app
        self.threads = max(1, int(threads or app.config.get("JOBS_THREADS") or 1))
        self.name = name or worker_name()
        self.summary = Summary()
        self._queue: queue.Queue[Claim] = queue.Queue()
        self._held: set[Claim] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._scheduler: Any = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Worker:
        tasks = self.app.extensions["frontdesk.registry"].periodic_tasks
        self._spawn(self._dispatch, "dispatcher")
        for n in range(self.threads):
            self._spawn(self._run, f"runner-{n}")
        lease = float(self.app.config["JOB_LEASE_SECONDS"])
        scheduler = new_scheduler()
        scheduler.add_job(self._heartbeat, "interval", seconds=max(lease / 3, 0.5), id="heartbeat")
        scheduler.add_job(
            self._housekeeping,
            "interval",
            seconds=HOUSEKEEPING_SECONDS,
            id="prune",
            next_run_time=datetime.now(UTC),
        )
        add_periodic_timers(scheduler, tasks, self._fire_tick)
        # The tick under way when the worker starts is claimed at once (if nobody has it yet).
        for task in tasks.values():
            scheduler.add_job(self._fire_tick, args=[task], next_run_time=datetime.now(UTC))
        scheduler.start()
        self._scheduler = scheduler
        self.app.extensions["frontdesk.jobs"].notify = self._wake.set
        log.info(
            "job worker %s started: %s threads, %s periodic tasks",
            self.name,
            self.threads,
            len(tasks),
        )
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming, let running jobs finish (up to ``timeout``), give back the rest."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        backend = self.app.extensions["frontdesk.jobs"]
        if getattr(backend, "notify", None) == self._wake.set:
            backend.notify = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        unstarted = []
        while True:
            try:
                unstarted.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if unstarted:
            with self.app.app_context():
                release(unstarted)
        still = [t.name for t in self._threads if t.is_alive()]
        if still:
            log.warning(
                "job worker %s stopped with jobs still running (%s); their leases "
                "will expire and another worker will run them",
                self.name,
                ", ".join(still),
            )
        log.info("job worker %s stopped: %s", self.name, self.summary.describe())

    def alive(self) -> bool:
        """Whether the worker still claims jobs (its dispatcher thread runs)."""
        return bool(self._threads) and self._threads[0].is_alive()

    # --- threads ---------------------------------------------------------------------------

    def _spawn(self, target: Any, label: str) -> None:
        thread = threading.Thread(target=target, name=f"frontdesk-jobs-{label}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _dispatch(self) -> None:
        poll = float(setting(self.app, "JOBS_POLL_SECONDS"))
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                free = self.threads - len(self._held)
            claims: list[Claim] = []
            if free > 0:
                try:
                    with self.app.app_context():
                        claims = claim_due(self.name, free)
                except Exception:
                    log.exception("job worker %s could not claim jobs", self.name)
            with self._lock:
                self._held.update(claims)
            for claim in claims:
                self._queue.put(claim)
            if free <= 0 or len(claims) < free:
                self._wake.wait(poll)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                claim = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if self._stop.is_set():
                self._queue.put(claim)  # given back by stop()
                return
            try:
                with self.app.app_context():
                    outcome = run_claimed(claim)
            except Exception:
                log.exception("job %s: the worker could not record its outcome", claim.job_id)
                outcome = "lost"
            with self._lock:
                self._held.discard(claim)
                self.summary.outcomes[outcome] += 1
            self._wake.set()

    # --- timers ----------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        with self._lock:
            held = list(self._held)
        with self.app.app_context():
            touch(held)

    def _housekeeping(self) -> None:
        with self.app.app_context():
            self.app.extensions["frontdesk.jobs"].prune(
                self.app.extensions["frontdesk.registry"].periodic_tasks
            )

    def _fire_tick(self, task: Any) -> None:
        if self._stop.is_set():
            return
        tick = task.tick_at(time.time())
        with self.app.app_context():
            job_id = self.app.extensions["frontdesk.jobs"].claim_tick(task, tick, self.name)
        if job_id is not None:
            with self._lock:
                self.summary.ticks.append(task.job_key(tick))
            self._wake.set()


def run_once(app: Flask, threads: int = 1) -> Summary:
    """Claim the current tick of every periodic task, then run every due job until none is left."""
    name = worker_name()
    summary = Summary()
    backend = app.extensions["frontdesk.jobs"]
    with app.app_context():
        for task in app.extensions["frontdesk.registry"].periodic_tasks.values():
            tick = task.tick_at(time.time())
            if backend.claim_tick(task, tick, name) is not None:
                summary.ticks.append(task.job_key(tick))

    def run(claim: Claim) -> str:
        with app.app_context():
            return run_claimed(claim)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        while True:
            with app.app_context():
                claims = claim_due(name, max(1, threads))
            if not claims:
                break
            for outcome in pool.map(run, claims):
                summary.outcomes[outcome] += 1
    return summary


def start_background_worker(app: Flask) -> Worker:
    """Run jobs in daemon threads of this process (``frontdesk run``); stopped at exit."""
    import atexit

    worker = Worker(app).start()
    atexit.register(worker.stop, 5.0)
    return worker
