"""Processes that load something and then idle, so their resident memory can be read.

Run as ``python idle.py frontdesk|flask|python``: ``frontdesk`` builds the app with every installed
plugin (what a worker holds before it runs a job), ``flask`` imports Flask and builds an empty
app, ``python`` only starts the interpreter. Each prints ``ready`` and sleeps until it is stopped
(at most ``MAX_IDLE`` seconds, so a forgotten one ends by itself).
"""

from __future__ import annotations

import sys
import time

MAX_IDLE = 300.0


def main(kind: str) -> None:
    if kind == "frontdesk":
        from frontdesk import create_app

        app = create_app()
        with app.app_context():
            names = ",".join(app.extensions["frontdesk.registry"].plugins)
            print(f"plugins {names}", flush=True)
    elif kind == "flask":
        from flask import Flask

        Flask("idle")
    elif kind != "python":
        raise SystemExit(f"unknown kind {kind!r}: frontdesk, flask or python")
    print("ready", flush=True)
    time.sleep(MAX_IDLE)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "python")
