"""Fresh Frontdesk instances for a benchmark: a temp instance folder, a database, a token.

SQLite databases live in the temp folder; PostgreSQL databases are created on the local server
(127.0.0.1:5432) with a unique name and dropped when the block ends.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from _lib.procs import VENV_BIN, BenchError, clean_env, run_checked

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@dataclass
class Instance:
    """A Frontdesk instance folder and the database it points at."""

    path: Path
    database_url: str
    secret_key: str

    @property
    def env(self) -> dict[str, str]:
        """The environment a Frontdesk process for this instance runs with."""
        return clean_env(
            {
                "FRONTDESK_INSTANCE_PATH": str(self.path),
                "FRONTDESK_DATABASE_URL": self.database_url,
                "FRONTDESK_SECRET_KEY": self.secret_key,
            }
        )

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"


def sqlite_instance(parent: Path, name: str = "instance") -> Instance:
    """A new instance folder under ``parent`` with an (empty) SQLite database file in it."""
    path = parent / name
    path.mkdir(parents=True)
    return Instance(path, f"sqlite:///{path / 'frontdesk.db'}", secrets.token_hex(32))


@contextlib.contextmanager
def postgres_database(prefix: str = "bench") -> Iterator[str]:
    """A new, empty PostgreSQL database for the block (dropped afterwards); yields its URL."""
    try:
        import psycopg
    except ImportError as exc:
        raise BenchError("psycopg is missing: install the dev extras (`make install`)") from exc
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_dsn = PG_SERVER.replace("+psycopg", "") + "/postgres"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}") from exc
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(instance: Instance) -> None:
    """Bring the instance's database to the newest schema with ``frontdesk db upgrade``."""
    run_checked([str(VENV_BIN / "frontdesk"), "db", "upgrade"], env=instance.env)


@contextlib.contextmanager
def app_context(instance: Instance) -> Iterator[object]:
    """A Frontdesk app for ``instance`` with its app context pushed; its engine is closed after."""
    from frontdesk import create_app

    app = create_app(
        {"DATABASE_URL": instance.database_url, "SECRET_KEY": instance.secret_key},
        instance_path=instance.path,
    )
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["frontdesk.db"].dispose()


def agent_with_token(instance: Instance, queue_keys: Sequence[str]) -> str:
    """Create the queues (where missing) and an agent on their team; return the agent's token."""
    from frontdesk.db import session
    from frontdesk.models import Queue
    from frontdesk.services import create_api_token, create_queue, create_user
    from sqlalchemy import select

    with app_context(instance):
        queues = []
        for key in queue_keys:
            queue = session.scalar(select(Queue).where(Queue.key == key))
            queues.append(queue or create_queue(key=key, name=key.replace("-", " ").title()))
        email = f"bench-agent-{secrets.token_hex(4)}@example.com"
        agent = create_user(email=email, name="Bench Agent", role="agent", queues=queues)
        _row, plain = create_api_token(agent, "bench")
    return plain
