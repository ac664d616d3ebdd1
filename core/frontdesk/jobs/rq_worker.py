"""``frontdesk worker`` on the Redis backend: RQ worker threads sharing one Frontdesk app.

Each thread is an RQ ``SimpleWorker`` (no fork per job: the app, its plugins and its database pool
are created once per process) that runs every job inside an app context. APScheduler drives the
periodic ticks and moves due delayed jobs and retries into the queue (under RQ's scheduler lock,
so one worker process does it at a time).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus

from frontdesk.jobs import JobInfo, _current
from frontdesk.jobs.worker import Summary, add_periodic_timers, new_scheduler

log = logging.getLogger(__name__)


class FrontdeskRQWorker(SimpleWorker):
    """An RQ worker that runs in a thread and runs each job in the Frontdesk app's context.

    While a job runs, a heartbeat thread keeps its entry in RQ's started registry alive for
    ``JOB_LEASE_SECONDS``; when the process dies the entry expires and RQ's registry cleanup
    (run by any worker) retries the job or, with no attempts left, fails it.
    """

    # Signal-based timeouts only work in the main thread; these workers run in others.
    death_penalty_class = TimerDeathPenalty

    def __init__(self, *args: Any, app: Flask, stop_event: threading.Event, **kwargs: Any) -> None:
        self.lease = max(1, int(app.config["JOB_LEASE_SECONDS"]))
        kwargs.setdefault("job_monitoring_interval", max(1, self.lease // 3))
        super().__init__(*args, **kwargs)
        self.app = app
        self.stop_event = stop_event
        self.outcomes: Counter = Counter()  # this thread's jobs: done, retry, failed

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        return self.lease

    def _install_signal_handlers(self) -> None:
        """The process's main thread owns the signals and sets ``stop_event``."""

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> Any:
        if timeout is None:  # burst mode: one non-blocking look
            return super().dequeue_job_and_maintain_ttl(None, max_idle_time)
        # Block for at most a second at a time so a stop request is noticed promptly.
        while not self.stop_event.is_set():
            result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time=1)
            if result is not None:
                return result
        return None

    def handle_job_success(self, job: Any, *args: Any, **kwargs: Any) -> Any:
        self.outcomes["done"] += 1
        return super().handle_job_success(job, *args, **kwargs)

    def handle_job_failure(self, job: Any, *args: Any, **kwargs: Any) -> Any:
        self.outcomes["retry" if job.should_retry else "failed"] += 1
        # RQ keeps the traceback of a final failure only; operators want the latest one.
        error = kwargs.get("exc_string") or ""
        job.meta["last_error"] = error if len(error) <= 8000 else "...\n" + error[-8000:]
        job.save_meta()
        return super().handle_job_failure(job, *args, **kwargs)

    def execute_job(self, job: Any, queue: Any) -> None:
        max_attempts = int(job.meta.get("max_attempts") or 1)
        attempt = max_attempts - (job.retries_left or 0)
        info = JobInfo(job.id, job.func_name, job.meta.get("key"), attempt)
        execution = self.prepare_execution(job)
        done = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, execution, done), daemon=True)
        beat.start()
        with self.app.app_context():
            token = _current.set(info)
            try:
                self.perform_job(job, queue, execution)
            finally:
                _current.reset(token)
                done.set()
                beat.join()
        self.set_state(WorkerStatus.IDLE)

    def _beat(self, job: Any, execution: Any, done: threading.Event) -> None:
        interval = self.lease / 3
        while not done.wait(interval):
            try:
                self.maintain_heartbeats(job, execution)
            except Exception:
                log.exception("job %s: could not renew its lease in Redis", job.id)


class RQWorkerProcess:
    """The RQ workers, scheduler pump and periodic timers of one ``frontdesk worker`` process."""

    def __init__(self, app: Flask, threads: int = 1) -> None:
        from rq.scheduler import RQScheduler

        self.app = app
        self.backend = app.extensions["frontdesk.jobs"]
        self.threads = max(1, threads)
        self.stop_event = threading.Event()
        self.name = f"{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(3)}"
        self._summary = Summary()
        try:
            self.backend.redis.ping()
        except Exception as exc:
            raise RuntimeError(f"cannot reach Redis at {self.backend.url}: {exc}") from exc
        self.workers = [
            FrontdeskRQWorker(
                [self.backend.queue_name],
                name=f"{self.name}.{n}",
                connection=self.backend.redis,
                serializer=JSONSerializer,
                app=app,
                stop_event=self.stop_event,
                log_job_description=False,
                maintenance_interval=60,
            )
            for n in range(self.threads)
        ]
        self.rq_scheduler = RQScheduler(
            [self.backend.queue_name], connection=self.backend.redis, serializer=JSONSerializer
        )
        self._threads: list[threading.Thread] = []
        self._scheduler: Any = None

    def fire_tick(self, task: Any) -> None:
        tick = task.tick_at(time.time())
        with self.app.app_context():
            if self.backend.claim_tick(task, tick, self.name) is not None:
                self._summary.ticks.append(task.job_key(tick))

    def pump_scheduled(self) -> None:
        """Move due delayed jobs and retries to the queue, if this process holds the lock."""
        self.rq_scheduler.acquire_locks()
        if self.rq_scheduler.acquired_locks:
            self.rq_scheduler.enqueue_scheduled_jobs()

    def run_once(self) -> Summary:
        """Claim current ticks, queue due retries, run every queued job, then return."""
        tasks = self.app.extensions["frontdesk.registry"].periodic_tasks
        for task in tasks.values():
            self.fire_tick(task)
        try:
            self.pump_scheduled()
        finally:
            self.rq_scheduler.release_locks()
        self._start_workers(burst=True)
        for thread in self._threads:
            thread.join()
        return self.summary

    def start(self) -> RQWorkerProcess:
        tasks = self.app.extensions["frontdesk.registry"].periodic_tasks
        scheduler = new_scheduler()
        scheduler.add_job(
            self.pump_scheduled,
            "interval",
            seconds=1,
            id="rq-scheduled",
            max_instances=1,
            coalesce=True,
        )
        add_periodic_timers(scheduler, tasks, self.fire_tick)
        for task in tasks.values():
            scheduler.add_job(self.fire_tick, args=[task], next_run_time=datetime.now(UTC))
        scheduler.start()
        self._scheduler = scheduler
        self._start_workers(burst=False)
        log.info(
            "RQ worker %s started: %s threads on queue %s, %s periodic tasks",
            self.name,
            self.threads,
            self.backend.queue_name,
            len(tasks),
        )
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        try:
            self.rq_scheduler.release_locks()
        except Exception:
            log.exception("could not release the RQ scheduler lock")
        log.info("RQ worker %s stopped: %s", self.name, self.summary.describe())

    def alive(self) -> bool:
        """Whether at least one RQ worker thread still runs."""
        return any(thread.is_alive() for thread in self._threads)

    def _start_workers(self, burst: bool) -> None:
        # RQ's workers each clean the queue's registries (retrying the jobs of dead workers) when
        # they start, under a lock that lives 15 minutes unless released. Threads starting one
        # after the other could still be cleaning while the first runs a job; a process killed
        # then left the lock behind, and no worker took back that job for 15 minutes. Clean once
        # here, before any job runs; the threads then clean on RQ's schedule only.
        self.workers[0].clean_registries()
        for worker in self.workers[1:]:
            worker.last_cleaned_at = self.workers[0].last_cleaned_at
        level = logging.getLevelName(log.getEffectiveLevel())
        for worker in self.workers:
            thread = threading.Thread(
                target=worker.work,
                kwargs={"burst": burst, "logging_level": level},
                name=f"frontdesk-rq-{worker.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    @property
    def summary(self) -> Summary:
        """Ticks claimed and job outcomes so far, over every worker thread."""
        self._summary.outcomes = sum((w.outcomes for w in self.workers), Counter())
        return self._summary
