"""Start and stop the processes a benchmark measures: gunicorn servers and idle workers.

Every process started here is stopped by the context manager that started it, whatever happens
in between, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO / "bench"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
STARTUP_TIMEOUT = 60.0


class BenchError(RuntimeError):
    """A benchmark could not run as set up; the message says what to fix."""


def stop_children_on_sigterm() -> None:
    """Turn SIGTERM into ``SystemExit`` so the ``finally`` blocks stop every started process."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``FRONTDESK_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A running gunicorn: where it listens and where its log goes."""

    name: str
    port: int
    pid: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def wait_http(port: int, proc: subprocess.Popen, timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until something answers HTTP on ``port`` (any status), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with code {proc.returncode} while starting")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise BenchError(f"nothing answered on {HOST}:{port} within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop ``proc`` (and its process group): SIGTERM, then SIGKILL after ``timeout``."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


@contextlib.contextmanager
def gunicorn(
    name: str,
    app: str,
    *,
    chdir: Path,
    env: Mapping[str, str],
    log_dir: Path,
    workers: int = GUNICORN_WORKERS,
    threads: int = GUNICORN_THREADS,
    clients: int | None = None,
) -> Iterator[Server]:
    """Run ``app`` under gunicorn (gthread) on a free loopback port for the ``with`` block.

    ``clients``: the keep-alive connections the load tool will open. Each worker then takes at
    most its share (``--worker-connections``): otherwise whichever worker wakes first may accept
    every connection, leaving the other idle for the whole run, and the figures depend on luck.
    """
    port = free_port()
    log_path = log_dir / f"gunicorn-{name}.log"
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "--chdir",
        str(chdir),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "120",
        *(["--worker-connections", str(-(-clients // workers))] if clients else []),
        "--log-level",
        "warning",
        app,
    ]
    with log_path.open("ab") as log:
        # A process group of its own, so stopping it also stops the workers it forked.
        proc = subprocess.Popen(
            cmd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name=name, port=port, pid=proc.pid, log_path=log_path)
    try:
        try:
            wait_http(port, proc)
        except BenchError as exc:
            raise BenchError(f"{name}: {exc}\n{server.log_tail()}") from exc
        yield server
    finally:
        stop_process(proc)


@contextlib.contextmanager
def background(
    cmd: list[str], *, env: Mapping[str, str], log_path: Path
) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` in its own process group for the ``with`` block, output into ``log_path``."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        stop_process(proc)


def run_checked(cmd: list[str], *, env: Mapping[str, str], timeout: float = 300.0) -> str:
    """Run ``cmd`` to completion; its output, or a :class:`BenchError` carrying that output."""
    result = subprocess.run(
        cmd, env=dict(env), capture_output=True, text=True, timeout=timeout, cwd=REPO
    )
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout
