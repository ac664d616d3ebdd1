"""``frontdesk worker --once`` and ``frontdesk jobs list|retry``."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from frontdesk.cli import main
from frontdesk.cli.context import AppContextHolder
from frontdesk.db import session
from frontdesk.jobs import enqueue
from frontdesk.models import Job

CALLS: list[Any] = []


def record(value: Any) -> None:
    CALLS.append(value)


def explode(reason: str) -> None:
    raise ValueError(f"cannot do it: {reason}")


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


@pytest.fixture
def app_config() -> dict[str, Any]:
    # Built-ins only: no installed plugin's periodic tasks or jobs in the way.
    return {"JOBS_EAGER": False, "PLUGINS": []}


def frontdesk(app: Any, *args: str) -> Result:
    holder = AppContextHolder()
    holder._app = app
    return CliRunner().invoke(main, list(args), obj=holder)


def state_of(job_id: str | None) -> str:
    session.commit()
    return session.scalar(select(Job.state).where(Job.id == int(job_id or 0)))


def test_worker_once_runs_what_is_due_and_summarises(app: Any) -> None:
    ids = [enqueue(record, value=n) for n in range(3)]

    result = frontdesk(app, "worker", "--once", "--threads", "2")

    assert result.exit_code == 0, result.output
    assert "ran 3 jobs, 3 done" in result.output
    assert sorted(CALLS) == [0, 1, 2]
    assert [state_of(i) for i in ids] == ["done"] * 3


def test_worker_once_exits_non_zero_when_a_job_fails(app: Any) -> None:
    enqueue(record, value="fine")
    enqueue(explode, reason="disk full", max_attempts=2)

    result = frontdesk(app, "worker", "--once")

    assert result.exit_code == 1, result.output
    assert "1 done" in result.output and "1 failed, will retry" in result.output


def test_jobs_list_shows_failed_jobs_with_their_last_error(app: Any) -> None:
    failed = enqueue(explode, reason="no route to host", max_attempts=1)
    enqueue(record, value="waiting")
    frontdesk(app, "worker", "--once")
    enqueue(record, value="still waiting")

    result = frontdesk(app, "jobs", "list", "--state", "failed")

    assert result.exit_code == 0, result.output
    assert "queued: 1  running: 0  done: 1  failed: 1" in result.output
    lines = [line for line in result.output.splitlines()[1:] if line.strip()]
    assert lines[0].split()[:3] == [failed, "failed", "1/1"]
    assert "explode" in lines[0]
    assert "last error: ValueError: cannot do it: no route to host" in lines[1]
    assert len(lines) == 2, "only failed jobs are listed"

    everything = frontdesk(app, "jobs", "list")
    assert everything.output.count("test_jobs_cli.record") == 2


def test_jobs_retry_queues_a_failed_job_again(app: Any) -> None:
    job_id = enqueue(explode, reason="temporary", max_attempts=1)
    frontdesk(app, "worker", "--once")
    assert state_of(job_id) == "failed"

    result = frontdesk(app, "jobs", "retry", str(job_id))

    assert result.exit_code == 0, result.output
    assert f"job {job_id}" in result.output and "queued again" in result.output
    assert state_of(job_id) == "queued"
    job = session.get(Job, int(job_id), populate_existing=True)
    assert (job.attempts, job.finished_at) == (0, None)


@pytest.mark.parametrize(
    ("job_arg", "message"),
    [("999999", "no job with id 999999"), ("abc", "job ids are numbers")],
)
def test_jobs_retry_of_an_unknown_job_is_an_error(app: Any, job_arg: str, message: str) -> None:
    result = frontdesk(app, "jobs", "retry", job_arg)
    assert result.exit_code == 1
    assert message in result.output


def test_jobs_retry_refuses_a_finished_job_and_leaves_it_alone(app: Any) -> None:
    job_id = enqueue(record, value="once")
    frontdesk(app, "worker", "--once")

    result = frontdesk(app, "jobs", "retry", str(job_id))

    assert result.exit_code == 1
    assert f"job {job_id} is done; only failed or waiting jobs can be retried" in result.output
    assert state_of(job_id) == "done"
    assert CALLS == ["once"]


def test_jobs_list_rejects_an_unknown_state(app: Any) -> None:
    result = frontdesk(app, "jobs", "list", "--state", "exploded")
    assert result.exit_code == 2
    assert "'exploded' is not one of" in result.output
