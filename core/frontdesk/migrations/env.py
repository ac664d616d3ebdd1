"""Alembic environment of the core (plugins' env.py files call the same ``run``)."""

from frontdesk.migrations.env_shared import run

run()
