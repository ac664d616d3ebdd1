"""The one Alembic environment: run by every source's ``env.py``."""

from __future__ import annotations

from alembic import context

from frontdesk.db import Model
from frontdesk.migrations import include_object_for


def run() -> None:
    config = context.config
    source = config.attributes["frontdesk_source"]
    connection = config.attributes["connection"]
    if connection is None:
        raise RuntimeError("run migrations through `frontdesk db ...`, which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=Model.metadata,
        version_table=source.version_table,
        include_object=include_object_for(source),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
