"""Alembic environment of the web-form plugin (the core's shared environment)."""

from frontdesk.db import run_migrations

run_migrations()
