"""The database job backend: enqueue, dedupe, retry with backoff, rollback, leases, ticks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from frontdesk.db import session, transaction, utcnow
from frontdesk.jobs import PeriodicTask, current_job, dotted_path, enqueue
from frontdesk.jobs.backends import get_backend
from frontdesk.jobs.runner import LOST, claim_due
from frontdesk.jobs.worker import Worker, run_once
from frontdesk.models import Job, Organization, PeriodicTick
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
def app_config() -> dict[str, Any]:
    # Built-ins only: no installed plugin's periodic tasks or jobs in the way.
    return {"JOBS_EAGER": False, "PLUGINS": []}


def job(job_id: str | None) -> Job:
    assert job_id is not None
    session.commit()  # a fresh snapshot: workers in other threads may have changed the row
    found = session.get(Job, int(job_id), populate_existing=True)
    assert found is not None
    return found


def make_due(job_id: str) -> None:
    """Pretend the retry delay has passed."""
    with transaction():
        session.execute(update(Job).where(Job.id == int(job_id)).values(run_at=utcnow()))


def test_an_enqueued_job_runs_once_in_an_app_context(app: Any) -> None:
    job_id = enqueue(create_organization, name="Acme Ltd")
    assert job(job_id).state == "queued"

    summary = run_once(app)

    assert summary.outcomes["done"] == 1 and summary.failed_attempts == 0
    assert session.scalar(select(Organization).where(Organization.name == "Acme Ltd"))
    done = job(job_id)
    assert (done.state, done.attempts, done.last_error) == ("done", 1, None)
    assert done.finished_at is not None
    assert run_once(app).ran == 0


def test_the_running_job_knows_its_id_key_and_attempt(app: Any) -> None:
    job_id = enqueue(record, key="who-am-i", value=1)
    run_once(app)
    assert CALLS == [(1, CALLS[0][1])]
    info = CALLS[0][1]
    expected = (job_id, dotted_path(record), "who-am-i", 1)
    assert (info.id, info.func, info.key, info.attempt) == expected


def test_a_key_dedupes_while_the_job_waits_and_frees_once_it_is_done(app: Any) -> None:
    first = enqueue(record, key="reindex:7", value="first")
    assert enqueue(record, key="reindex:7", value="second") is None
    assert session.scalar(select(func.count()).select_from(Job)) == 1

    run_once(app)
    assert [value for value, _ in CALLS] == ["first"]

    again = enqueue(record, key="reindex:7", value="third")
    assert again is not None and again != first
    run_once(app)
    assert [value for value, _ in CALLS] == ["first", "third"]
    assert job(first).key is None and job(again).key == "reindex:7"


def test_a_failing_job_is_retried_with_backoff_then_marked_failed(app: Any) -> None:
    FAILURES["left"] = 5
    job_id = enqueue(flaky, max_attempts=3)

    before = utcnow()
    summary = run_once(app)
    first = job(job_id)
    assert summary.outcomes["retry"] == 1 and summary.failed_attempts == 1
    assert (first.state, first.attempts) == ("queued", 1)
    assert first.run_at >= before + timedelta(seconds=10)
    assert "RuntimeError: boom, 4 failures left" in first.last_error
    assert run_once(app).ran == 0, "a job waiting for its retry is not due yet"

    make_due(job_id)
    before = utcnow()
    run_once(app)
    second = job(job_id)
    assert (second.state, second.attempts) == ("queued", 2)
    assert second.run_at >= before + timedelta(seconds=20), "the delay doubles"

    make_due(job_id)
    summary = run_once(app)
    final = job(job_id)
    assert summary.outcomes["failed"] == 1
    assert (final.state, final.attempts) == ("failed", 3)
    assert "boom, 2 failures left" in final.last_error and final.finished_at is not None
    make_due(job_id)
    assert run_once(app).ran == 0, "a failed job stays failed"

    FAILURES["left"] = 0
    get_backend(app).retry_job(job_id)
    assert run_once(app).outcomes["done"] == 1
    assert job(job_id).state == "done" and CALLS == ["flaky ok"]


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_runs(app: Any) -> None:
    with pytest.raises(RuntimeError, match="changed my mind"), transaction():
        enqueue(record, value="ghost")
        raise RuntimeError("changed my mind")

    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert run_once(app).ran == 0
    assert CALLS == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: enqueue(record, value=object()), TypeError, "JSON-serialisable"),
        (lambda: enqueue(record, value=float("nan")), TypeError, "JSON-serialisable"),
        (lambda: enqueue("no_such_module.job"), ValueError, "cannot be imported"),
        (lambda: enqueue(lambda: None), ValueError, "cannot be imported"),
        (lambda: enqueue(record, run_at=datetime(2030, 1, 1), value=1), ValueError, "aware"),
        (lambda: enqueue(record, max_attempts=0, value=1), ValueError, "max_attempts"),
        (lambda: enqueue(record, key="", value=1), ValueError, "key"),
        (lambda: enqueue(record, key="k" * 256, value=1), ValueError, "key"),
    ],
)
def test_bad_job_arguments_are_refused_and_store_nothing(
    app: Any, call: Any, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        call()
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_job_runs_no_earlier_than_run_at(app: Any) -> None:
    later = enqueue(record, run_at=utcnow() + timedelta(hours=1), value="later")
    assert run_once(app).ran == 0
    make_due(later)
    assert run_once(app).outcomes["done"] == 1 and [v for v, _ in CALLS] == ["later"]


def test_a_job_whose_worker_died_is_taken_back_when_its_lease_expires(app: Any) -> None:
    job_id = enqueue(record, value="survivor")
    assert [c.job_id for c in claim_due("worker-that-dies", 1)] == [int(job_id)]
    assert run_once(app).ran == 0, "the lease is still valid"

    stale = utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
    with transaction():
        session.execute(update(Job).where(Job.id == int(job_id)).values(claimed_at=stale))
    assert run_once(app).outcomes["done"] == 1
    taken = job(job_id)
    assert (taken.state, taken.attempts) == ("done", 2) and taken.claimed_by != "worker-that-dies"
    assert CALLS[0][1].attempt == 2


def test_a_lost_job_on_its_last_attempt_is_marked_failed(app: Any) -> None:
    job_id = enqueue(record, value="never", max_attempts=1)
    claim_due("worker-that-dies", 1)
    stale = utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
    with transaction():
        session.execute(update(Job).where(Job.id == int(job_id)).values(claimed_at=stale))
    assert run_once(app).ran == 0
    lost = job(job_id)
    assert (lost.state, lost.last_error) == ("failed", LOST)
    assert CALLS == []


def test_a_periodic_tick_runs_once_however_many_workers_try(app: Any, plugins: Any) -> None:
    # A tick of about 30 years: every attempt below falls in the same tick.
    task = PeriodicTask("ticker.sweep", dotted_path(record), 10**9, {"value": "swept"})

    class Ticker:
        @hookimpl
        def register_periodic_tasks(self) -> list[PeriodicTask]:
            return [task]

    plugins.register(Ticker(), name="ticker")
    first = run_once(app, threads=2)
    second = run_once(app, threads=2)
    assert first.ticks == [task.job_key(task.tick_at(utcnow().timestamp()))]
    assert second.ticks == []
    assert [value for value, _ in CALLS] == ["swept"]
    assert CALLS[0][1].key == first.ticks[0]
    assert session.scalar(select(func.count()).select_from(PeriodicTick)) == 1


def test_the_background_worker_runs_jobs_as_they_come_and_stops_cleanly(
    app: Any, wait_for: Any
) -> None:
    worker = Worker(app, threads=2).start()
    try:
        ids = [enqueue(record, value=n) for n in range(5)]
        wait_for(lambda: all(job(i).state == "done" for i in ids), 30, "the worker to run 5 jobs")
    finally:
        worker.stop(timeout=10)
    assert sorted(value for value, _ in CALLS) == list(range(5))
    assert worker.summary.outcomes["done"] == 5
    assert not worker.alive()
    assert get_backend(app).notify is None


class TestEagerMode:
    """``JOBS_EAGER`` (the test default) runs a due job as soon as its transaction commits."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"JOBS_EAGER": True, "PLUGINS": []}

    def test_the_job_runs_after_commit(self, app: Any) -> None:
        with transaction():
            job_id = enqueue(record, value="eager")
            assert CALLS == [], "nothing runs before the commit"
        assert [value for value, _ in CALLS] == ["eager"]
        assert job(job_id).state == "done"

    def test_a_delayed_job_waits_for_a_worker(self, app: Any) -> None:
        job_id = enqueue(record, run_at=utcnow() + timedelta(minutes=5), value="later")
        assert CALLS == [] and job(job_id).state == "queued"
