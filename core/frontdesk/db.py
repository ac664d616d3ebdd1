"""Database access shared by the core and plugins: the declarative base, the session, transactions.

Every app owns one :class:`Database` (engine plus scoped session) in
``app.extensions["frontdesk.db"]``. ``session`` is a proxy to the current app's session, so plugin
code never holds an engine. Work is grouped with :func:`transaction`: the outermost block commits
and only then fires the lifecycle events queued with :func:`emit_after_commit`; a rolled-back
transaction fires nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

__all__ = [
    "Database",
    "Model",
    "call_after_commit",
    "clock_at",
    "UTCDateTime",
    "emit_after_commit",
    "get_db",
    "run_migrations",
    "session",
    "transaction",
    "utcnow",
]

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_clock: ContextVar[datetime | None] = ContextVar("frontdesk_clock", default=None)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only kind stored); see :func:`clock_at`."""
    fixed = _clock.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextlib.contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Make :func:`utcnow` answer ``moment`` inside the block, in this thread only.

    For writing past activity through the ordinary services (demo data, imports) so that history
    rows and ticket timestamps tell the same story. Flush before leaving the block: column
    defaults are evaluated at flush time.
    """
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Model(DeclarativeBase):
    """Base class of every table, core and plugin alike (plugin tables are named ``<name>__*``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: MutableDict.as_mutable(JSON()),
        list[str]: MutableList.as_mutable(JSON()),
        list[dict[str, Any]]: MutableList.as_mutable(JSON()),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine with the settings the core relies on (WAL and foreign keys on SQLite)."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if url not in ("sqlite://", "sqlite:///:memory:"):
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        # pysqlite's own transaction handling defers BEGIN in ways SQLAlchemy cannot see; take it
        # over, and let write transactions take the write lock up front (BEGIN IMMEDIATE) so two
        # writers queue on busy_timeout instead of failing on a read-to-write upgrade.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            write = conn.get_execution_options().get("frontdesk_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    return create_engine(url, **kwargs)


class Database:
    """An engine and its scoped session, owned by one app."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.Session = scoped_session(
            sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=True)
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def remove(self, _exc: BaseException | None = None) -> None:
        self.Session.remove()

    def dispose(self) -> None:
        self.Session.remove()
        self.engine.dispose()


def get_db() -> Database:
    """The current app's :class:`Database`."""
    return current_app.extensions["frontdesk.db"]


def _current_session() -> Session:
    return get_db().Session()


session: Session = LocalProxy(_current_session)  # type: ignore[assignment]
"""The current app's session (a proxy: import it anywhere, it resolves per app and thread)."""


_DEPTH = "frontdesk.tx_depth"
_PENDING = "frontdesk.pending_events"


def emit_after_commit(hook_name: str, **kwargs: Any) -> None:
    """Queue the event hook ``hook_name`` to fire with ``kwargs`` once the transaction commits."""
    sess = _current_session()
    sess.info.setdefault(_PENDING, []).append((hook_name, kwargs))


def _begin_sqlite_write(sess: Session) -> None:
    if sess.in_transaction():
        if sess.new or sess.dirty or sess.deleted:
            return  # changes already made belong to this transaction; keep them
        sess.commit()  # end the read snapshot; loaded objects stay usable (no expire on commit)
    sess.connection(execution_options={"frontdesk_write": True})


def call_after_commit(func: Any, **kwargs: Any) -> None:
    """Run ``func(**kwargs)`` once the current transaction commits (never if it rolls back)."""
    sess = _current_session()
    sess.info.setdefault(_PENDING, []).append((func, kwargs))


@contextlib.contextmanager
def transaction() -> Iterator[Session]:
    """Run a block in one transaction; nested blocks join the outermost one.

    The outermost block commits on success and then fires the queued events; on an exception it
    rolls back, drops the queued events and re-raises.
    """
    sess = _current_session()
    depth = sess.info.get(_DEPTH, 0)
    if depth == 0 and sess.bind is not None and sess.bind.dialect.name == "sqlite":
        _begin_sqlite_write(sess)
    sess.info[_DEPTH] = depth + 1
    try:
        yield sess
        if depth == 0:
            sess.commit()
    except StaleDataError as exc:
        if depth == 0:
            sess.rollback()
            sess.info.pop(_PENDING, None)
        from frontdesk.services.errors import StaleVersion

        raise StaleVersion("the record was changed by someone else meanwhile; reload it") from exc
    except BaseException:
        if depth == 0:
            sess.rollback()
            sess.info.pop(_PENDING, None)
        raise
    finally:
        sess.info[_DEPTH] = depth
    if depth == 0:
        pending = sess.info.pop(_PENDING, [])
        if pending and has_app_context():
            from frontdesk.pluginmanager import fire_event

            for target, kwargs in pending:
                if callable(target):
                    target(**kwargs)
                else:
                    fire_event(target, **kwargs)


def run_migrations() -> None:
    """Run the shared Alembic environment: the whole body of every source's ``env.py``."""
    from frontdesk.migrations.env_shared import run

    run()
