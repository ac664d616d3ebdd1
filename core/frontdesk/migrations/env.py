"""Alembic environment of the core; every plugin's env.py is the same two lines."""

from frontdesk.db import run_migrations

run_migrations()
