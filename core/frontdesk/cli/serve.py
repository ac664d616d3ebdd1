"""``frontdesk run``: serve the app (Socket.IO included) with in-process jobs."""

from __future__ import annotations

import click
from flask import Flask

from frontdesk.cli.context import with_app


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-jobs", is_flag=True, help="Do not run background jobs in this process.")
@with_app()
def run(app: Flask, host: str, port: int, no_jobs: bool) -> None:
    """Serve Frontdesk on HOST:PORT (development and single-machine installs)."""
    from frontdesk.realtime import get_socketio

    if not no_jobs and app.config["JOBS_BACKEND"] == "inprocess":
        from frontdesk.jobs.worker import start_background_worker

        start_background_worker(app)
    get_socketio(app).run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)


COMMANDS = [run]
