"""The Redis backend (RQ): enqueue after commit, key dedupe, retries with backoff, ticks."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from rq import Queue
from rq.job import Job as RQJob
from rq.serializers import JSONSerializer
from sqlalchemy import select

from frontdesk.db import session, transaction, utcnow
from frontdesk.jobs import PeriodicTask, current_job, dotted_path, enqueue
from frontdesk.jobs.backends import JobNotRetryable, get_backend
from frontdesk.jobs.rq_worker import RQWorkerProcess
from frontdesk.models import Organization
from frontdesk.plugins import hookimpl

CALLS: list[Any] = []
FAILURES = {"left": 0}


def record(value: Any) -> None:
    CALLS.append((value, current_job()))


def create_organization(name: str) -> None:
    from frontdesk.services import create_organization as create

    create(name=name)


def flaky() -> None:
    if FAILURES["left"] > 0:
        FAILURES["left"] -= 1
        raise RuntimeError(f"boom, {FAILURES['left']} failures left")
    CALLS.append("flaky ok")


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAILURES["left"] = 0


@pytest.fixture
def app_config(redis_queue: Any) -> dict[str, Any]:
    return redis_queue.config()


@pytest.fixture
def queue(app: Any, redis_queue: Any) -> Queue:
    return Queue(redis_queue.queue, connection=redis_queue.redis, serializer=JSONSerializer)


def run_once(app: Any, threads: int = 1) -> Any:
    return RQWorkerProcess(app, threads).run_once()


def make_due(queue: Queue, job_id: str) -> None:
    """Pretend the retry delay has passed."""
    queue.connection.zadd(queue.scheduled_job_registry.key, {job_id: time.time() - 1})


def test_an_enqueued_job_runs_in_an_app_context(app: Any, queue: Queue) -> None:
    job_id = enqueue(create_organization, name="Redis Corp")
    assert queue.get_job_ids() == [job_id]

    summary = run_once(app)

    assert summary.outcomes["done"] == 1 and summary.failed_attempts == 0
    session.commit()
    assert session.scalar(select(Organization).where(Organization.name == "Redis Corp"))
    assert RQJob.fetch(job_id, connection=queue.connection, serializer=JSONSerializer).is_finished
    assert run_once(app).ran == 0


def test_the_running_job_knows_its_id_key_and_attempt(app: Any, queue: Queue) -> None:
    job_id = enqueue(record, key="who-am-i", value=1)
    run_once(app)
    info = CALLS[0][1]
    expected = (job_id, dotted_path(record), "who-am-i", 1)
    assert (info.id, info.func, info.key, info.attempt) == expected


def test_the_job_is_pushed_when_the_transaction_commits(app: Any, queue: Queue) -> None:
    with transaction():
        enqueue(record, value="committed")
        assert queue.count == 0
    assert queue.count == 1
    run_once(app)
    assert [value for value, _ in CALLS] == ["committed"]


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_runs(
    app: Any, queue: Queue, redis_queue: Any
) -> None:
    with pytest.raises(RuntimeError, match="changed my mind"), transaction():
        enqueue(record, key="ghost", value="ghost")
        raise RuntimeError("changed my mind")
    assert queue.count == 0
    assert not redis_queue.redis.exists(f"{redis_queue.prefix}key:ghost")
    assert run_once(app).ran == 0 and CALLS == []


def test_a_key_dedupes_while_the_job_waits_and_frees_once_it_is_done(
    app: Any, queue: Queue
) -> None:
    first = enqueue(record, key="reindex:7", value="first")
    assert enqueue(record, key="reindex:7", value="second") is None
    assert queue.count == 1
    run_once(app)
    again = enqueue(record, key="reindex:7", value="third")
    assert again is not None and again != first
    run_once(app)
    assert [value for value, _ in CALLS] == ["first", "third"]


def test_a_failing_job_is_retried_with_backoff_then_marked_failed(
    app: Any, queue: Queue, redis_queue: Any
) -> None:
    FAILURES["left"] = 5
    job_id = enqueue(flaky, key="flaky", max_attempts=3)
    scheduled = queue.scheduled_job_registry

    before = utcnow()
    summary = run_once(app)
    assert summary.outcomes["retry"] == 1 and summary.failed_attempts == 1
    assert scheduled.get_scheduled_time(job_id) >= before + timedelta(seconds=9)
    assert run_once(app).ran == 0, "a job waiting for its retry is not due yet"
    [row] = get_backend(app).list_jobs()
    assert (row.id, row.state, row.attempts, row.max_attempts) == (job_id, "queued", 1, 3)
    assert "boom, 4 failures left" in row.last_error

    make_due(queue, job_id)
    before = utcnow()
    run_once(app)
    assert scheduled.get_scheduled_time(job_id) >= before + timedelta(seconds=19), "it doubles"

    make_due(queue, job_id)
    summary = run_once(app)
    assert summary.outcomes["failed"] == 1
    [row] = get_backend(app).list_jobs(state="failed")
    assert (row.id, row.attempts) == (job_id, 3) and "boom, 2 failures left" in row.last_error
    assert not redis_queue.redis.exists(f"{redis_queue.prefix}key:flaky"), "the key is free"

    FAILURES["left"] = 0
    get_backend(app).retry_job(job_id)
    assert run_once(app).outcomes["done"] == 1 and CALLS == ["flaky ok"]
    with pytest.raises(JobNotRetryable):
        get_backend(app).retry_job(job_id)


def test_a_delayed_job_waits_until_run_at(app: Any, queue: Queue) -> None:
    job_id = enqueue(record, run_at=utcnow() + timedelta(hours=1), value="later")
    assert run_once(app).ran == 0
    make_due(queue, job_id)
    assert run_once(app).outcomes["done"] == 1 and [v for v, _ in CALLS] == ["later"]


def test_a_periodic_tick_runs_once_however_many_workers_try(
    app: Any, plugins: Any, redis_queue: Any
) -> None:
    task = PeriodicTask("ticker.sweep", dotted_path(record), 10**9, {"value": "swept"})

    class Ticker:
        @hookimpl
        def register_periodic_tasks(self) -> list[PeriodicTask]:
            return [task]

    plugins.register(Ticker(), name="ticker")
    first = run_once(app, threads=2)
    second = run_once(app, threads=2)
    tick = task.tick_at(time.time())
    assert first.ticks == [task.job_key(tick)] and second.ticks == []
    assert [value for value, _ in CALLS] == ["swept"]
    assert redis_queue.redis.exists(f"{redis_queue.prefix}tick:ticker.sweep:{tick}")


@pytest.mark.parametrize("variable", ["FRONTDESK_REDIS_URL", "REDIS_URL"])
def test_a_redis_url_in_the_environment_selects_the_rq_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, variable: str
) -> None:
    from frontdesk.config import load_config

    for name in ("FRONTDESK_REDIS_URL", "REDIS_URL", "FRONTDESK_JOBS_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    assert load_config(tmp_path)["JOBS_BACKEND"] == "inprocess"

    monkeypatch.setenv(variable, "redis://127.0.0.1:6379/0")
    config = load_config(tmp_path)
    assert (config["JOBS_BACKEND"], config["REDIS_URL"]) == ("rq", "redis://127.0.0.1:6379/0")
    assert load_config(tmp_path, {"JOBS_BACKEND": "inprocess"})["JOBS_BACKEND"] == "inprocess"
