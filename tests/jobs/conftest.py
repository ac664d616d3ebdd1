"""Fixtures for the job tests: a real installed test plugin, worker subprocesses, a Redis queue."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PLUGIN_NAME = "jobtest"

PLUGIN_SOURCE = '''
"""A plugin for the job tests: jobs that write what they did under $JOBTEST_DIR."""

import os
import time
from pathlib import Path

from frontdesk.jobs import PeriodicTask, current_job
from frontdesk.plugins import hookimpl


def _out() -> Path:
    return Path(os.environ["JOBTEST_DIR"])


def beat():
    with open(_out() / "beats.log", "a") as fh:
        fh.write(f"{current_job().key} {os.getpid()}\\n")


def slow():
    """First attempt: announce itself and block until released (at most 60 s)."""
    job = current_job()
    if job.attempt == 1:
        (_out() / "started").write_text(str(os.getpid()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (_out() / "release").exists():
            time.sleep(0.05)
    (_out() / "finished").write_text(f"{job.attempt} {os.getpid()}")


@hookimpl
def register_periodic_tasks():
    if os.environ.get("JOBTEST_BEAT"):
        return [PeriodicTask("jobtest.beat", "jobtest_plugin.beat", 1)]
    return []
'''


@pytest.fixture(scope="session")
def jobtest_plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ``jobtest`` plugin as an installed distribution (dist-info)."""
    root = tmp_path_factory.mktemp("jobtest-plugin")
    package = root / "jobtest_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(PLUGIN_SOURCE)
    info = root / "frontdesk_jobtest-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: frontdesk-jobtest\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text(f"[frontdesk.plugins]\n{PLUGIN_NAME} = jobtest_plugin\n")
    return root


@pytest.fixture
def jobtest_out(tmp_path: Path, jobtest_plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the test plugin's jobs write; the plugin is importable in this process too."""
    out = tmp_path / "jobtest-out"
    out.mkdir()
    monkeypatch.syspath_prepend(str(jobtest_plugin_dir))
    monkeypatch.setenv("JOBTEST_DIR", str(out))
    return out


def frontdesk_command() -> str:
    path = Path(sys.executable).parent / "frontdesk"
    if not path.exists():
        pytest.fail(f"the frontdesk command is missing at {path}; run pip install -e .")
    return str(path)


class WorkerProcesses:
    """Starts ``frontdesk`` subprocesses against the test database; kills them all at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self._files: list[Any] = []

    def start(self, *args: str, **extra_env: str) -> subprocess.Popen:
        log_path = self.logs / f"worker-{len(self.procs)}.log"
        log_file = log_path.open("w")
        self._files.append(log_file)
        proc = subprocess.Popen(
            [frontdesk_command(), *args],
            env={**self.env, **extra_env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def run(self, *args: str, timeout: float = 120, **extra_env: str) -> Any:
        return subprocess.run(
            [frontdesk_command(), *args],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def output(self, proc: subprocess.Popen) -> str:
        return proc.log_path.read_text()  # type: ignore[attr-defined]

    def stop(self, proc: subprocess.Popen, timeout: float = 40) -> int:
        """SIGTERM and wait for a clean exit; returns the exit status."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        for log_file in self._files:
            log_file.close()


@pytest.fixture
def workers(
    frontdesk_database_url: str, tmp_path: Path, jobtest_plugin_dir: Path, jobtest_out: Path
) -> Iterator[WorkerProcesses]:
    """Spawn real ``frontdesk`` processes that load the ``jobtest`` plugin from its dist-info."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_") and k != "REDIS_URL"
    }
    env.update(
        FRONTDESK_DATABASE_URL=frontdesk_database_url,
        FRONTDESK_SECRET_KEY="test-secret-key-not-for-production",
        FRONTDESK_INSTANCE_PATH=str(tmp_path / "worker-instance"),
        FRONTDESK_PLUGINS=f'["{PLUGIN_NAME}"]',
        FRONTDESK_JOBS_BACKEND="inprocess",
        FRONTDESK_JOBS_POLL_SECONDS="0.2",
        JOBTEST_DIR=str(jobtest_out),
        PYTHONPATH=os.pathsep.join(
            p for p in (str(jobtest_plugin_dir), os.environ.get("PYTHONPATH", "")) if p
        ),
    )
    procs = WorkerProcesses(env, tmp_path)
    try:
        yield procs
    finally:
        procs.kill_all()


def _wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def wait_for() -> Callable[[Callable[[], Any], float, str], Any]:
    """``wait_for(condition, timeout, what)``: poll until truthy, else fail naming ``what``."""
    return _wait_for


class RedisQueue:
    """A queue name and key prefix unique to one test, deleted afterwards."""

    def __init__(self, url: str) -> None:
        from redis import Redis

        self.url = url
        self.redis = Redis.from_url(url)
        token = secrets.token_hex(6)
        self.queue = f"fdtest_{token}"
        self.prefix = f"fdtest:{token}:"

    def config(self) -> dict[str, Any]:
        return {
            "JOBS_BACKEND": "rq",
            "REDIS_URL": self.url,
            "JOBS_QUEUE": self.queue,
            "JOBS_REDIS_PREFIX": self.prefix,
            "JOBS_EAGER": False,
            "PLUGINS": [],  # no installed plugin's periodic tasks or jobs in the way
        }

    def env(self) -> dict[str, str]:
        return {
            "FRONTDESK_JOBS_BACKEND": "rq",
            "FRONTDESK_REDIS_URL": self.url,
            "FRONTDESK_JOBS_QUEUE": self.queue,
            "FRONTDESK_JOBS_REDIS_PREFIX": self.prefix,
        }

    def cleanup(self) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        queue = Queue(self.queue, connection=self.redis, serializer=JSONSerializer)
        ids = set(queue.get_job_ids())
        for registry in (
            queue.started_job_registry,
            queue.scheduled_job_registry,
            queue.failed_job_registry,
            queue.finished_job_registry,
            queue.deferred_job_registry,
            queue.canceled_job_registry,
        ):
            ids.update(registry.get_job_ids())
        workers = self.redis.smembers(f"rq:workers:{self.queue}")
        if workers:
            self.redis.srem("rq:workers", *workers)
        doomed = set(workers)
        for job_id in ids:
            doomed.update(self.redis.scan_iter(f"rq:*{job_id}*"))
        doomed.update(self.redis.scan_iter(f"rq:*{self.queue}*"))
        doomed.update(self.redis.scan_iter(f"{self.prefix}*"))
        if doomed:
            self.redis.delete(*doomed)
        self.redis.srem("rq:queues", f"rq:queue:{self.queue}")


@pytest.fixture
def redis_queue() -> Iterator[RedisQueue]:
    """A unique RQ queue on the Redis server the suite uses (it must be running)."""
    rq_queue = RedisQueue(REDIS_URL)
    from redis.exceptions import RedisError

    try:
        rq_queue.redis.ping()
    except (RedisError, OSError) as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}); start it (make services) "
            "or set FRONTDESK_TEST_REDIS_URL"
        )
    try:
        yield rq_queue
    finally:
        rq_queue.cleanup()
