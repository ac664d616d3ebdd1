"""``frontdesk worker [--threads N] [--once]``, ``frontdesk jobs list|retry``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

import click
from flask import Flask

from frontdesk.cli.context import with_app
from frontdesk.jobs.backends import JOB_STATES, JobNotFound, JobNotRetryable, get_backend

STOP_TIMEOUT = 30.0


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # APScheduler reports every timer run at INFO: a line per tick and heartbeat is noise.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _new_worker(app: Flask, threads: int) -> Any:
    if app.config["JOBS_BACKEND"] == "rq":
        from frontdesk.jobs.rq_worker import RQWorkerProcess

        try:
            return RQWorkerProcess(app, threads)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
    from frontdesk.jobs.worker import Worker

    return Worker(app, threads)


def _run_until_signalled(runner: Any) -> Any:
    requested = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if requested.is_set():  # a second signal: do not wait for running jobs
            os._exit(128 + signum)
        logging.getLogger(__name__).info(
            "stopping: waiting up to %ss for running jobs (signal again to exit now)",
            int(STOP_TIMEOUT),
        )
        requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        runner.start()
        while not requested.wait(1.0):
            if not runner.alive():
                raise click.ClickException("the job worker stopped unexpectedly; see the log")
    finally:
        runner.stop(STOP_TIMEOUT)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return runner.summary


@click.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="Jobs run at the same time in this process (default: JOBS_THREADS).",
)
@click.option(
    "--once", is_flag=True, help="Run every job due now (and due periodic ticks), then exit."
)
@with_app(role="worker")
def worker(app: Flask, threads: int | None, once: bool) -> None:
    """Run background jobs until stopped (SIGTERM or Ctrl+C), or just what is due with --once.

    With --once the exit status is 1 when any job failed.
    """
    _configure_logging()
    threads = threads or int(app.config.get("JOBS_THREADS") or 1)
    if once:
        if app.config["JOBS_BACKEND"] == "rq":
            summary = _new_worker(app, threads).run_once()
        else:
            from frontdesk.jobs.worker import run_once

            summary = run_once(app, threads)
    else:
        summary = _run_until_signalled(_new_worker(app, threads))
    click.echo(summary.describe())
    if once and summary.failed_attempts:
        raise click.exceptions.Exit(1)


@click.group("jobs")
def jobs() -> None:
    """Inspect and retry background jobs."""


@jobs.command("list")
@click.option("--state", type=click.Choice(JOB_STATES), default=None, help="Only jobs in STATE.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@with_app()
def list_cmd(app: Flask, state: str | None, limit: int) -> None:
    """List jobs, newest first, with attempts and the last error."""
    backend = get_backend(app)
    rows = backend.list_jobs(state=state, limit=limit)
    counts = backend.count_jobs()
    click.echo("  ".join(f"{name}: {counts.get(name, 0)}" for name in JOB_STATES))
    for row in rows:
        run_at = row.run_at.strftime("%Y-%m-%d %H:%M:%S") if row.run_at else "-"
        click.echo(
            f"{row.id:<10} {row.state:<8} {row.attempts}/{row.max_attempts:<3} {run_at}  "
            f"{row.func}" + (f"  key={row.key}" if row.key else "")
        )
        if row.last_error and row.state in ("failed", "queued"):
            lines = row.last_error.strip().splitlines()
            click.echo(f"{'':<10} last error: {lines[-1] if lines else ''}")


@jobs.command("retry")
@click.argument("job_id")
@with_app()
def retry_cmd(app: Flask, job_id: str) -> None:
    """Run the failed job JOB_ID again (attempts start afresh)."""
    try:
        row = get_backend(app).retry_job(job_id)
    except (JobNotFound, JobNotRetryable) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"job {row.id} ({row.func}) is queued again")


COMMANDS = [worker, jobs]
