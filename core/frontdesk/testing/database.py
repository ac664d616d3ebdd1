"""A throwaway database per test run (SQLite file or a fresh PostgreSQL database)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENV = "FRONTDESK_TEST_DATABASE_URL"


@contextmanager
def run_database(tmp_dir: Path) -> Iterator[str]:
    """Yield a URL of an empty database that exists for the duration of the block."""
    base = os.environ.get(ENV, "").strip()
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{tmp_dir / 'frontdesk-test.db'}"
        return
    url = make_url(base)
    name = f"fd_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the suite must say what is missing, never skip
        raise RuntimeError(
            f"{ENV} points at {url.render_as_string(hide_password=True)}, which cannot be "
            f"reached or cannot create databases: {exc}"
        ) from exc
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_all_tables(engine) -> None:  # type: ignore[no-untyped-def]
    """Delete every row of every table but the migration version tables."""
    from sqlalchemy import inspect

    from frontdesk.db import Model

    present = {n for n in inspect(engine).get_table_names() if not n.startswith("alembic_version")}
    if not present:
        return
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            quoted = ", ".join(f'"{n}"' for n in sorted(present))
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        return
    ordered = [t.name for t in reversed(Model.metadata.sorted_tables) if t.name in present]
    ordered += sorted(present - set(ordered))
    with engine.begin() as conn:
        for name in ordered:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')
