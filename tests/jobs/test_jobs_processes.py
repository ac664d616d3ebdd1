"""Real ``frontdesk worker`` processes: lease takeover after SIGKILL, one run per periodic tick."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from frontdesk.db import session, utcnow
from frontdesk.jobs import enqueue
from frontdesk.models import Job, PeriodicTick

LEASE = "2"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"JOBS_EAGER": False, "JOB_LEASE_SECONDS": int(LEASE), "PLUGINS": []}


def fetch(job_id: str | None) -> Job:
    session.commit()  # see what the worker processes committed
    job = session.get(Job, int(job_id or 0), populate_existing=True)
    assert job is not None
    return job


def start_slow_job(workers: Any, out: Path, wait_for: Any) -> tuple[str | None, Any]:
    job_id = enqueue("jobtest_plugin.slow")
    proc = workers.start("worker", FRONTDESK_JOB_LEASE_SECONDS=LEASE)
    wait_for(
        lambda: (out / "started").exists() or proc.poll() is not None,
        90,
        "the worker process to start the job",
    )
    assert proc.poll() is None, workers.output(proc)
    return job_id, proc


def test_a_job_whose_worker_is_killed_runs_again_once_its_lease_expires(
    app: Any, workers: Any, jobtest_out: Path, wait_for: Any
) -> None:
    job_id, proc = start_slow_job(workers, jobtest_out, wait_for)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    orphan = fetch(job_id)
    assert (orphan.state, orphan.attempts) == ("running", 1)
    assert f":{proc.pid}:" in orphan.claimed_by
    assert not (jobtest_out / "finished").exists()
    wait_for(
        lambda: utcnow() - fetch(job_id).claimed_at > timedelta(seconds=int(LEASE)),
        30,
        "the dead worker's lease to expire",
    )

    result = workers.run("worker", "--once", FRONTDESK_JOB_LEASE_SECONDS=LEASE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ran 1 job, 1 done" in result.stdout
    done = fetch(job_id)
    assert (done.state, done.attempts) == ("done", 2)
    assert (jobtest_out / "finished").read_text().split()[0] == "2"


def test_a_long_job_is_not_taken_over_while_its_worker_lives(
    app: Any, workers: Any, jobtest_out: Path, wait_for: Any
) -> None:
    job_id, proc = start_slow_job(workers, jobtest_out, wait_for)
    time.sleep(2 * int(LEASE))  # the claim is older than the lease; only heartbeats keep it

    result = workers.run("worker", "--once", FRONTDESK_JOB_LEASE_SECONDS=LEASE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ran 0 jobs" in result.stdout

    (jobtest_out / "release").touch()
    wait_for(lambda: fetch(job_id).state == "done", 30, "the first worker to finish the job")
    assert fetch(job_id).attempts == 1
    assert (jobtest_out / "finished").read_text().split() == ["1", str(proc.pid)]
    assert workers.stop(proc) == 0, workers.output(proc)


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_a_periodic_task_fires_once_per_tick_across_worker_processes(
    app: Any, workers: Any, jobtest_out: Path, wait_for: Any, request: Any, backend: str
) -> None:
    env = {"JOBTEST_BEAT": "1"}
    if backend == "redis":
        redis_queue = request.getfixturevalue("redis_queue")
        env.update(redis_queue.env())
    beats = jobtest_out / "beats.log"

    def beaten_ticks() -> Counter:
        lines = beats.read_text().splitlines() if beats.exists() else []
        return Counter(line.split()[0] for line in lines)

    procs = [workers.start("worker", "--threads", "2", **env) for _ in range(3)]
    wait_for(lambda: len(beaten_ticks()) >= 4, 90, "four ticks of the 1-second task")
    for proc in procs:
        assert proc.poll() is None, workers.output(proc)
    assert [workers.stop(proc) for proc in procs] == [0, 0, 0]
    for proc in procs:
        assert "started" in workers.output(proc), "every process was competing for the ticks"

    runs = beaten_ticks()
    assert len(runs) >= 4
    assert [key for key, count in runs.items() if count > 1] == [], "a tick ran twice"
    ticks = {int(key.rsplit(":", 1)[1]) for key in runs}
    if backend == "database":
        session.commit()
        ledger = set(
            session.scalars(select(PeriodicTick.tick).where(PeriodicTick.task == "jobtest.beat"))
        )
        assert ticks <= ledger
        keys = list(session.scalars(select(Job.key).where(Job.key.like("periodic:jobtest.beat:%"))))
        assert len(keys) == len(set(keys)) == len(ledger), "one job per claimed tick"
    else:
        for tick in ticks:
            assert redis_queue.redis.exists(f"{redis_queue.prefix}tick:jobtest.beat:{tick}")


class TestRedisBackend:
    @pytest.fixture
    def app_config(self, redis_queue: Any) -> dict[str, Any]:
        # No retry delay: the job taken back from the dead worker is due at once.
        return {**redis_queue.config(), "JOB_LEASE_SECONDS": int(LEASE), "JOB_RETRY_DELAY": 0}

    def test_a_job_whose_worker_is_killed_runs_again_once_its_lease_expires(
        self, app: Any, workers: Any, jobtest_out: Path, wait_for: Any, redis_queue: Any
    ) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        queue = Queue(redis_queue.queue, connection=redis_queue.redis, serializer=JSONSerializer)
        env = {**redis_queue.env(), "FRONTDESK_JOB_LEASE_SECONDS": LEASE}
        job_id = enqueue("jobtest_plugin.slow", max_attempts=3)
        proc = workers.start("worker", **env)
        wait_for(
            lambda: (jobtest_out / "started").exists() or proc.poll() is not None,
            90,
            "the worker process to start the job",
        )
        assert proc.poll() is None, workers.output(proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

        registry = queue.started_job_registry
        assert job_id in registry, "the job is still marked as running"
        # The dead process was not cleaning the registries when it died: the next worker may.
        assert not redis_queue.redis.exists(queue.registry_cleaning_key)
        wait_for(
            lambda: job_id in registry.get_expired_job_ids(),
            30,
            "the dead worker's lease to expire",
        )

        result = workers.run("worker", "--once", **env)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "ran 1 job, 1 done" in result.stdout
        assert (jobtest_out / "finished").read_text().split()[0] == "2"
