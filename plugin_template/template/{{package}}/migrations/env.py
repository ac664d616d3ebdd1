"""Alembic environment of this plugin: the core's shared one, with the version table of its own."""

from frontdesk.db import run_migrations

run_migrations()
