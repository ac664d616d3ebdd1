"""Alembic environment of the email plugin (the core's shared environment)."""

from frontdesk.db import run_migrations

run_migrations()
