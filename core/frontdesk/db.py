"""Database access shared by the core and plugins: the declarative base, the session, transactions.

Every app owns one :class:`Database` (engine plus scoped session) in
``app.extensions["frontdesk.db"]``. ``session`` is a proxy to the current app's session, so plugin
code never holds an engine. Work is grouped with :func:`transaction`: the outermost block commits
and only then fires the lifecycle events queued with :func:`emit_after_commit`; a rolled-back
transaction fires nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import has_app_context
from flask.globals import _cv_app
from sqlalchemy import JSON, DateTime, Executable, MetaData, Result, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Database",
    "IsoTimestamp",
    "Model",
    "call_after_commit",
    "clock_at",
    "UTCDateTime",
    "emit_after_commit",
    "get_db",
    "in_transaction",
    "load",
    "read",
    "run_migrations",
    "savepoint",
    "session",
    "transaction",
    "utcnow",
    "write",
]

log = logging.getLogger(__name__)
_M = TypeVar("_M")

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

    # On SQLite a timestamp is text in SQLAlchemy's format ("2024-05-06 07:08:09.123456"). The
    # two processors below convert it in one step each way instead of two (the dialect's and
    # ours); a page of tickets holds a few hundred timestamps.
    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetimes are not stored; pass an aware datetime")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            parsed = parse(value)
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return process


class IsoTimestamp(UTCDateTime):
    """A :class:`UTCDateTime` read as ISO 8601 text, exactly as ``datetime.isoformat()`` writes it.

    For queries whose rows go straight into JSON (the ticket list): on SQLite the stored text
    is rewritten in place, which costs a fraction of parsing a datetime and formatting it again;
    text in any other form, and other databases, take the long way.
    """

    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        to_datetime = super().result_processor(dialect, coltype)

        def isoformat(value: Any) -> str | None:
            if value is None:
                return None
            return (to_datetime(value) if to_datetime else value).isoformat()

        if dialect.name != "sqlite":
            return isoformat

        def process(value: str | None) -> str | None:
            # "2024-05-06 07:08:09.123456" -> "2024-05-06T07:08:09.123456+00:00"; isoformat()
            # leaves out a zero fraction of a second.
            if value is not None and len(value) == 26 and value[10] == " " and value[19] == ".":
                fraction = "" if value.endswith("000000") else value[19:]
                return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
            return isoformat(value)

        return process


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


def _json_loads(text: str) -> Any:
    # Most JSON columns (custom fields, plugin data, a queue's field definitions) hold an empty
    # object or list: skip the parser.
    if text == "{}":
        return {}
    return [] if text == "[]" else json.loads(text)


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine with the settings the core relies on (WAL and foreign keys on SQLite)."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["json_deserializer"] = _json_loads
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

        # The dialect's own hook, not a "begin" event: any connection event listener sends every
        # statement of the engine down SQLAlchemy's slower event path (twice the cost of a
        # cached statement), and this engine runs a dozen statements per request.
        engine.dialect.do_begin = _sqlite_begin  # type: ignore[method-assign]
        _plain_savepoints(engine)

        database = engine.url.database
        in_memory = url in ("sqlite://", "sqlite:///:memory:") or not database
        _WRITE_LOCKS[engine] = _WriteLock(None if in_memory else f"{database}.writelock")
        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, **kwargs)
    _plain_savepoints(engine)
    return engine


def _plain_savepoints(engine: Engine) -> None:
    """Send SAVEPOINT, RELEASE and ROLLBACK TO as plain SQL, never compiled.

    SQLAlchemy compiles each one anew (the name changes every time, so it is never cached), and
    a batch of inbound mail opens several per message: 600 piped messages compiled 4,449
    statements, 29 now (those of the first use of each prepared statement).
    """
    engine.dialect.do_savepoint = _savepoint  # type: ignore[method-assign]
    engine.dialect.do_release_savepoint = _release_savepoint  # type: ignore[method-assign]
    engine.dialect.do_rollback_to_savepoint = _rollback_to_savepoint  # type: ignore[method-assign]


# Set by _begin_sqlite_write while it starts a write transaction; _sqlite_begin marks it begun.
_WRITE_BEGIN: ContextVar[list[bool] | None] = ContextVar("frontdesk_sqlite_write", default=None)


def _sqlite_begin(dbapi_connection: Any) -> None:
    """Begin a SQLite transaction: ``BEGIN IMMEDIATE`` inside :func:`_begin_sqlite_write`."""
    write = _WRITE_BEGIN.get()
    if write is None:
        dbapi_connection.execute("BEGIN")
    else:
        dbapi_connection.execute("BEGIN IMMEDIATE")
        write.append(True)


# Straight to the driver's connection (sqlite3 and psycopg both run SQL on it): a savepoint
# has no parameters and no result, and SQLAlchemy's execute path costs several times the
# statement itself. Statement events and echo do not see these three.
def _savepoint(connection: Any, name: str) -> None:
    connection.connection.driver_connection.execute(f'SAVEPOINT "{name}"')


def _release_savepoint(connection: Any, name: str) -> None:
    connection.connection.driver_connection.execute(f'RELEASE SAVEPOINT "{name}"')


def _rollback_to_savepoint(connection: Any, name: str) -> None:
    connection.connection.driver_connection.execute(f'ROLLBACK TO SAVEPOINT "{name}"')


class _WriteLock:
    """Queues the SQLite write transactions of one database: threads first, then processes.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps, during
    which the lock is often free again: under load most of a write's time went to waiting.
    Writers of a process queue on a thread lock, and one per process on an advisory ``flock``
    of ``<database>.writelock``, so the next writer starts soon after the last one ends. Both
    waits end after ``WAIT`` seconds like SQLite's busy timeout; the writer then goes on and
    ``BEGIN IMMEDIATE``, which guards the database in any case, decides.
    """

    WAIT = 30.0
    REQUEST_WAIT = 0.25  # longest a write request queues behind the process's others

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._requests = threading.Lock()  # one write request of this process at a time
        self._threads = threading.Lock()
        self._local = threading.local()  # per thread: nesting depth, whether it holds the lock
        self._fd: int | None = None
        self._pid = 0
        self._file_held = False  # only the thread holding ``_threads`` reads or sets it

    def acquire(self) -> None:
        local = self._local
        depth = getattr(local, "depth", 0)
        local.depth = depth + 1
        if depth > 0:  # this thread already queued (another session's transaction)
            return
        local.owner = self._threads.acquire(timeout=self.WAIT)
        if local.owner and self._path is not None:
            try:
                self._file_held = _flock_within(self._file(), self.WAIT)
            except OSError as exc:  # e.g. a read-only folder: queue the threads only
                log.warning("cannot use %s to queue writers: %s", self._path, exc)
                self._path = None
            except BaseException:
                self._release_thread()
                raise

    def release(self) -> None:
        local = self._local
        local.depth -= 1
        if local.depth == 0 and local.owner:
            self._release_thread()

    def enter_request(self) -> bool:
        """Queue a write request behind this process's others; False: it waited long enough.

        Threads of one process share one interpreter lock, so two write requests running side
        by side do not finish sooner, but the one holding the write lock keeps losing the CPU
        to the other and every writer of every process waits longer. The wait is short: a
        request that is slow for another reason (a remote server, a password hash) delays the
        next one by ``REQUEST_WAIT`` at most.
        """
        return self._requests.acquire(timeout=self.REQUEST_WAIT)

    def leave_request(self) -> None:
        self._requests.release()

    def _release_thread(self) -> None:
        self._local.owner = False
        try:
            if self._file_held:
                self._file_held = False
                fcntl.flock(self._fd, fcntl.LOCK_UN)  # type: ignore[arg-type]
        finally:
            self._threads.release()

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # opened anew after a fork
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)  # type: ignore[arg-type]
            self._pid = os.getpid()
            self._closer = weakref.finalize(self, os.close, self._fd)
        return self._fd

    def close(self) -> None:
        """Close the lock file (the engine is being disposed of)."""
        if self._fd is not None and self._pid == os.getpid():
            self._closer()
        self._fd = None


def _flock_within(fd: int, timeout: float) -> bool:
    """Take an exclusive ``flock`` on ``fd``, waiting at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.0001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, _WriteLock] = weakref.WeakKeyDictionary()


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

    def enter_write_request(self) -> bool:
        """On SQLite, queue a write request behind the process's others (see ``_WriteLock``).

        True when the caller queued and must call :meth:`leave_write_request` once it is done.
        """
        lock = _WRITE_LOCKS.get(self.engine)
        return lock is not None and lock.enter_request()

    def leave_write_request(self) -> None:
        _WRITE_LOCKS[self.engine].leave_request()

    def dispose(self) -> None:
        self.Session.remove()
        self.engine.dispose()
        lock = _WRITE_LOCKS.pop(self.engine, None)
        if lock is not None:
            lock.close()


def get_db() -> Database:
    """The current app's :class:`Database`."""
    # What ``current_app`` resolves, without a proxy: a lookup made ~100 times per request.
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "Working outside of application context: the database belongs to an app; push its "
            "context (``with app.app_context():``)."
        )
    return ctx.app.extensions["frontdesk.db"]  # type: ignore[no-any-return]


def _current_session() -> Session:
    return get_db().Session.registry()  # type: ignore[no-any-return]


class _SessionProxy:
    """Stands for the current app's session of this thread, looked up on every use.

    Every attribute, ``in`` and iteration go to that session. Not werkzeug's ``LocalProxy``:
    its descriptors cost about three times this lookup, and services, hooks and lookups use
    ``session`` a hundred times per request or inbound message.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(_current_session(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(_current_session(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_current_session(), name)

    def __contains__(self, obj: object) -> bool:
        return obj in _current_session()

    def __iter__(self) -> Iterator[Any]:
        return iter(_current_session())

    def __repr__(self) -> str:
        return f"<frontdesk.db.session {_current_session()!r}>"

    def _get_current_object(self) -> Session:
        """The session itself (as werkzeug's proxies name it), e.g. to hand to a library."""
        return _current_session()


session: Session = _SessionProxy()  # type: ignore[assignment]
"""The current app's session (a proxy: import it anywhere, it resolves per app and thread)."""


_DEPTH = "frontdesk.tx_depth"
_PENDING = "frontdesk.pending_events"


def emit_after_commit(hook_name: str, **kwargs: Any) -> None:
    """Queue the event hook ``hook_name`` to fire with ``kwargs`` once the transaction commits."""
    sess = _current_session()
    sess.info.setdefault(_PENDING, []).append((hook_name, kwargs))


def _begin_sqlite_write(sess: Session) -> _WriteLock | None:
    """Start a SQLite write transaction; returns the write lock taken for it, if any.

    A session that has only read so far keeps its connection: the read snapshot ends with a
    ``COMMIT`` and ``BEGIN IMMEDIATE`` starts the write on the same connection, which saves
    ending the session's transaction and checking a connection out of the pool again. Loaded
    objects stay usable either way (nothing expires on commit).
    """
    if sess.in_transaction():
        if sess.new or sess.dirty or sess.deleted:
            # Changes already made belong to this transaction; keep them. Such a session may
            # hold SQLite's lock already, so it must not queue behind writers waiting for it.
            return None
        if sess.get_nested_transaction() is not None:
            sess.commit()  # a savepoint that changed nothing: end it the ordinary way
    lock = _WRITE_LOCKS.get(sess.bind)
    if lock is not None:
        lock.acquire()
    begun: list[bool] = []
    token = _WRITE_BEGIN.set(begun)
    try:
        conn = sess.connection()
        if not begun:  # the connection was already reading: turn its transaction into a write
            dbapi_connection = conn.connection.driver_connection
            if dbapi_connection.in_transaction:
                dbapi_connection.execute("COMMIT")
            dbapi_connection.execute("BEGIN IMMEDIATE")
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    finally:
        _WRITE_BEGIN.reset(token)
    return lock


def read(statement: Executable, /, **params: Any) -> Result[Any]:
    """Run a prepared statement on the session's connection, without the ORM's per-query work.

    For the lookups a request or a message makes every time (a statement built once at import):
    about a third of the cost of ``session.execute``. Pending changes are flushed first, as an
    ORM query would, so objects not yet written count.
    """
    from frontdesk.statements import execute

    sess = _current_session()
    if sess.autoflush:
        sess.flush()
    return execute(sess.connection(), statement, params)  # type: ignore[no-any-return]


def write(statement: Executable, /, **params: Any) -> Result[Any]:
    """:func:`read` for a prepared INSERT, UPDATE or DELETE: one row's values as ``params``.

    The answer has ``rowcount`` and, for an INSERT, ``inserted_primary_key``. Objects in the
    session do not see the change; make them match it (``set_committed_value``) or expire them.
    """
    return read(statement, **params)


def load(model: type[_M], ident: Any, /) -> _M | None:
    """The ``model`` object with primary key ``ident``, or ``None``: ``session.get`` made cheap.

    The session's own object when it holds that row already; otherwise the row is read with
    one statement built once per model and made into a persistent object (about a third of
    the cost of an ORM load). Its relationships load when first read, whatever their loading
    strategy; ask ``session.get`` with options where eager loading matters.
    """
    from frontdesk.services.rows import load_by_key

    return load_by_key(model, ident)


def in_transaction() -> bool:
    """Whether the caller runs inside a :func:`transaction` block (of the current session)."""
    return _current_session().info.get(_DEPTH, 0) > 0


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
    lock = None
    if depth == 0 and sess.bind is not None and sess.bind.dialect.name == "sqlite":
        lock = _begin_sqlite_write(sess)
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
        if lock is not None:
            lock.release()
    if depth == 0:
        pending = sess.info.pop(_PENDING, [])
        if pending and has_app_context():
            from frontdesk.pluginmanager import fire_event

            for target, kwargs in pending:
                if callable(target):
                    target(**kwargs)
                else:
                    fire_event(target, **kwargs)


@contextlib.contextmanager
def savepoint() -> Iterator[Session]:
    """Run a block in a SAVEPOINT of the current :func:`transaction`.

    An exception undoes the block alone: its changes and the events and after-commit calls it
    queued are dropped, the rest of the transaction stays and the exception propagates. For work
    that shares one transaction but must fail item by item (a batch of inbound mail).
    """
    sess = _current_session()
    if sess.info.get(_DEPTH, 0) == 0:
        raise RuntimeError("savepoint() runs inside a transaction() block")
    pending = sess.info.setdefault(_PENDING, [])
    queued = len(pending)
    try:
        with sess.begin_nested():
            yield sess
    except BaseException:
        del pending[queued:]
        raise


def run_migrations() -> None:
    """Run the shared Alembic environment: the whole body of every source's ``env.py``."""
    from frontdesk.migrations.env_shared import run

    run()
