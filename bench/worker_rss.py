"""Benchmark: resident memory of a Frontdesk worker with every installed plugin loaded.

Starts ``frontdesk worker`` on a fresh migrated SQLite instance, once with the in-process job
backend (jobs in the database) and once with the RQ backend on Redis (``--redis-url``, a queue
and key prefix unique to the run, deleted afterwards), waits until its memory stops growing, and
reads ``VmRSS`` (and the peak, ``VmHWM``) from ``/proc/<pid>/status``. Processes that build the
app with every plugin and idle are measured too: the app a worker builds (``role="worker"``,
which shows what the job loop adds) and the app a web process builds (``create_app()``); the
latter stands in for the worker where this install has no ``frontdesk worker`` command (the
table says which ran). Bare Python and bare Python+Flask processes are measured the same way as
baselines.

Budget: worker RSS under 90 MiB, for each job backend.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _lib import report
from _lib.instances import migrate, sqlite_instance
from _lib.procs import (
    BENCH_DIR,
    VENV_BIN,
    BenchError,
    background,
    clean_env,
    stop_children_on_sigterm,
)

TARGET_MIB = 90.0
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# The app a worker process builds, then idle; older installs have no roles and build the full app.
WORKER_APP_IDLE = """
import inspect, time
from frontdesk import create_app
create_app(**({"role": "worker"} if "role" in inspect.signature(create_app).parameters else {}))
print("ready", flush=True)
time.sleep(300)
"""
SAMPLE_EVERY = 0.5
STABLE_SAMPLES = 6  # three seconds within STABLE_MIB of each other
STABLE_MIB = 0.25


@dataclass
class Memory:
    """What one process held once settled."""

    name: str
    rss_mib: float
    peak_mib: float
    settled: bool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settle", type=float, default=30.0, help="max seconds to wait per process"
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help=f"Redis for the RQ worker (default {DEFAULT_REDIS_URL})",
    )
    parser.add_argument("--no-rq", action="store_true", help="skip the RQ worker")
    return parser.parse_args()


def read_status(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` of ``pid`` in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024  # reported in kB
    return values


def settle(
    name: str, proc: subprocess.Popen, log_path: Path, max_wait: float, wait_ready: bool
) -> Memory:
    """Sample the process until its RSS is steady (or ``max_wait`` passes).

    With ``wait_ready`` sampling starts once the process printed ``ready``.
    """
    deadline = time.monotonic() + max_wait
    samples: list[float] = []
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"{name} exited with code {proc.returncode}:\n{log_path.read_text()[-2000:]}"
            )
        if not wait_ready or "ready" in log_path.read_text():
            samples.append(read_status(proc.pid)["VmRSS"])
            recent = samples[-STABLE_SAMPLES:]
            if len(recent) == STABLE_SAMPLES and max(recent) - min(recent) <= STABLE_MIB:
                break
        time.sleep(SAMPLE_EVERY)
    status = read_status(proc.pid)
    recent = samples[-STABLE_SAMPLES:]
    steady = len(recent) == STABLE_SAMPLES and max(recent) - min(recent) <= STABLE_MIB
    return Memory(name, status["VmRSS"], status["VmHWM"], steady)


def has_worker_command(env: dict[str, str]) -> bool:
    result = subprocess.run(
        [str(VENV_BIN / "frontdesk"), "worker", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode == 0


def plugin_names(env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [str(VENV_BIN / "frontdesk"), "plugins", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise BenchError(f"frontdesk plugins list failed: {result.stderr or result.stdout}")
    return [p["name"] for p in json.loads(result.stdout)]


def measure(
    name: str, cmd: list[str], env: dict[str, str], tmp: Path, max_wait: float, wait_ready: bool
) -> Memory:
    """Start ``cmd``, let it settle, read its memory, stop it."""
    log_path = tmp / f"process-{len(list(tmp.iterdir()))}.log"
    with background(cmd, env=env, log_path=log_path) as proc:
        return settle(name, proc, log_path, max_wait, wait_ready)


class RedisRun:
    """A queue name and key prefix unique to one run on ``url``, deleted afterwards."""

    def __init__(self, url: str) -> None:
        try:
            from redis import Redis
            from redis.exceptions import RedisError
        except ImportError as exc:
            raise BenchError("redis is missing: install the dev extras (`make install`)") from exc
        self.redis = Redis.from_url(url)
        try:
            self.redis.ping()
        except RedisError as exc:
            raise BenchError(f"Redis is not reachable at {url}: {exc}") from exc
        token = secrets.token_hex(4)
        self.url = url
        self.queue = f"bench_{token}"
        self.prefix = f"bench:{token}:"

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {
            **base,
            "FRONTDESK_REDIS_URL": self.url,
            "FRONTDESK_JOBS_BACKEND": "rq",
            "FRONTDESK_JOBS_QUEUE": self.queue,
            "FRONTDESK_JOBS_REDIS_PREFIX": self.prefix,
            "FRONTDESK_JOBS_KEEP_SECONDS": "600",
        }

    def cleanup(self) -> None:
        """Delete the run's queue, registries, jobs, workers and keys."""
        job_ids: set[bytes] = set()
        for key in self.redis.scan_iter(f"rq:*:{self.queue}"):
            kind = self.redis.type(key)
            if kind == b"list":
                job_ids.update(self.redis.lrange(key, 0, -1))
            elif kind == b"zset":
                job_ids.update(self.redis.zrange(key, 0, -1))
        workers = self.redis.smembers(f"rq:workers:{self.queue}")
        if workers:
            self.redis.srem("rq:workers", *workers)
        doomed = set(workers)
        for job_id in job_ids:
            doomed.update(self.redis.scan_iter(f"rq:*{job_id.decode()}*"))
        doomed.update(self.redis.scan_iter(f"rq:*{self.queue}*"))
        doomed.update(self.redis.scan_iter(f"{self.prefix}*"))
        if doomed:
            self.redis.delete(*doomed)
        self.redis.srem("rq:queues", f"rq:queue:{self.queue}")


def measure_rq_worker(redis_url: str, env: dict[str, str], tmp: Path, max_wait: float) -> Memory:
    """``frontdesk worker`` on the RQ backend, with a queue and key prefix of its own."""
    redis_run = RedisRun(redis_url)
    try:
        cmd = [str(VENV_BIN / "frontdesk"), "worker"]
        name = "frontdesk worker (RQ on Redis)"
        return measure(name, cmd, redis_run.env(env), tmp, max_wait, wait_ready=False)
    finally:
        redis_run.cleanup()


def main() -> int:
    args = parse_args()
    stop_children_on_sigterm()
    report.header("worker_rss: resident memory of a worker (MiB, lower is better)")
    results: list[Memory] = []
    errors: list[str] = []
    workers: dict[str, Memory] = {}  # job backend -> the worker (or its stand-in) measured
    plugins: list[str] = []
    python = sys.executable
    idle = str(BENCH_DIR / "_lib" / "idle.py")

    def attempt(backend: str | None, run: Callable[[], Memory]) -> None:
        try:
            memory = run()
        except Exception as exc:  # report what was measured, then the failure
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        results.append(memory)
        if backend:
            workers.setdefault(backend, memory)

    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        has_worker = False
        env = clean_env()
        try:
            instance = sqlite_instance(tmp)
            migrate(instance)
            env = instance.env
            plugins = plugin_names(env)
            has_worker = has_worker_command(env)
        except Exception as exc:  # report what was measured, then the failure
            errors.append(f"{type(exc).__name__}: {exc}")
        if has_worker:
            worker_cmd = [str(VENV_BIN / "frontdesk"), "worker"]
            name = "frontdesk worker (database jobs)"
            attempt("database", lambda: measure(name, worker_cmd, env, tmp, args.settle, False))
            if not args.no_rq:
                attempt("rq", lambda: measure_rq_worker(args.redis_url, env, tmp, args.settle))
            # The app a worker builds, without the job loop: shows what the loop itself adds.
            idle_cmd = [python, "-c", WORKER_APP_IDLE]
            name = "worker app with plugins, idle"
            attempt(None, lambda: measure(name, idle_cmd, env, tmp, args.settle, True))
        web_name = "web app with plugins, idle" + ("" if has_worker else " (no `frontdesk worker`)")
        web_cmd = [python, idle, "frontdesk"]
        stands_in = None if has_worker else "database"
        attempt(stands_in, lambda: measure(web_name, web_cmd, env, tmp, args.settle, True))
        for name, kind in (
            ("baseline: bare Python+Flask", "flask"),
            ("baseline: bare Python", "python"),
        ):
            cmd = [python, idle, kind]
            attempt(None, lambda: measure(name, cmd, clean_env(), tmp, args.settle, True))
    print(f"   plugins loaded ({len(plugins)}): {', '.join(plugins) or '?'}")
    report.table(
        ["process", "VmRSS MiB", "VmHWM MiB", "settled"],
        [(m.name, m.rss_mib, m.peak_mib, "yes" if m.settled else "no") for m in results],
    )
    flask = next((m for m in results if m.name.endswith("Flask")), None)
    worker = workers.get("database")
    if worker and flask:
        report.extra(
            "worker RSS over bare Python+Flask", f"{worker.rss_mib - flask.rss_mib:.1f} MiB"
        )
    budgets = [("worker RSS, all plugins loaded", worker)]
    if not args.no_rq:
        budgets.append(("worker RSS, all plugins loaded (RQ)", workers.get("rq")))
    for name, memory in budgets:
        report.budget(
            name,
            memory.rss_mib if memory else None,
            f"< {TARGET_MIB:.0f} MiB",
            memory is not None and memory.rss_mib < TARGET_MIB,
            " MiB",
        )
    report.load_average()
    for error in errors:
        print(f"error {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
