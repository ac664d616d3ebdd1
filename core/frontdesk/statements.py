"""Prebuilt statements run straight on SQLite's driver, with SQLAlchemy's own type handling.

A statement built once at import (a lookup, an INSERT of a whole row) costs SQLAlchemy ~70 us per
execution on this kind of machine, against ~5 us for the driver to run it: the execution context,
the result object and parameter handling are rebuilt every time. An inbound message runs about
fourteen of them and an API request a dozen, so on SQLite, where the driver is that fast,
:func:`execute` compiles each statement once (per set of parameter names), keeps SQLAlchemy's
bind and result processors (dates, JSON, booleans and the core's own column types convert
exactly as through SQLAlchemy) and runs it on the driver's cursor. Errors come back as
SQLAlchemy's own exception classes.

Plans are compiled for the SQLite dialect and shared by every SQLite engine (Frontdesk makes
them all alike, see :func:`frontdesk.db.make_engine`). Anything it does not handle goes through
``Connection.execute`` unchanged: other databases,
statements with Python-side defaults to compute or expanding ``IN`` parameters, executemany,
engines with statement events or echo (tests that watch statements see every one).
"""

from __future__ import annotations

from collections import namedtuple
from keyword import iskeyword
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

_NOT_FAST = object()
_PLANS: dict[tuple[int, frozenset[str]], Any] = {}
# Plans keep their statement alive (the key is its id). Statements are meant to be built once;
# one built per call would fill the cache, so past this many the rest take SQLAlchemy's path.
MAX_PLANS = 2048


class _Plan:
    __slots__ = ("statement", "sql", "names", "binds", "results", "row", "keys", "pk")

    def __init__(self, statement: Any, dialect: Any, keys: frozenset[str]) -> None:
        self.statement = statement  # kept alive: the cache is keyed by its id
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
        if (
            not compiled.positional
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
        ):
            raise _Unsupported
        self.sql = compiled.string
        self.names = list(compiled.positiontup or ())
        processors = compiled._bind_processors  # SQLAlchemy's own, per bind name
        self.binds: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
        for name in self.names:
            bind = compiled.binds[name]
            if bind.callable is not None:  # a value computed per execution
                raise _Unsupported
            # A literal built into the statement (LIMIT 1, a constant) keeps its value.
            default = _REQUIRED if bind.required else bind.effective_value
            self.binds.append((name, processors.get(name), default))
        columns = compiled._result_columns
        self.keys = [c[0] for c in columns]
        self.results = [c[3]._cached_result_processor(dialect, None) for c in columns]
        if not all(_plain_name(k) for k in self.keys) or len(set(self.keys)) != len(self.keys):
            raise _Unsupported
        self.row = namedtuple("Row", self.keys) if self.keys else None  # type: ignore[misc]
        table = getattr(statement, "table", None)
        self.pk = None
        if compiled.isinsert and table is not None and len(table.primary_key.columns) == 1:
            self.pk = table.primary_key.columns[0].key


class _Unsupported(Exception):
    pass


_REQUIRED = object()


def _plain_name(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and not iskeyword(key) and key[0] != "_"


def execute(connection: Connection, statement: Executable, params: Mapping[str, Any]) -> Any:
    """``connection.execute(statement, params)``, on the driver when the statement allows it.

    The answer offers what the core's callers use of a ``Result``: iteration, ``scalar``,
    ``first``, ``one``, ``all``, ``mappings``, ``tuples``, ``rowcount``, and for an INSERT
    ``inserted_primary_key``.
    """
    engine = connection.engine
    if (
        engine.dialect.name != "sqlite"
        or not isinstance(params, dict)
        or engine._has_events
        or connection._has_events
        or engine.echo
    ):
        return connection.execute(statement, params)
    key = (id(statement), frozenset(params))
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= MAX_PLANS:
            return connection.execute(statement, params)
        try:
            plan = _Plan(statement, engine.dialect, key[1])
        except Exception:  # not for this path; SQLAlchemy runs it, or says what is wrong
            plan = _NOT_FAST
        _PLANS[key] = plan
    if plan is _NOT_FAST or plan.statement is not statement:
        return connection.execute(statement, params)
    args = []
    for name, process, default in plan.binds:
        value = params[name] if name in params else default
        if value is _REQUIRED:
            return connection.execute(statement, params)  # SQLAlchemy says what is missing
        args.append(process(value) if process is not None else value)
    driver = connection.connection.driver_connection
    try:
        cursor = driver.execute(plan.sql, args)
        raw = cursor.fetchall() if plan.keys else None
    except engine.dialect.loaded_dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(
            plan.sql, args, exc, engine.dialect.loaded_dbapi.Error
        ) from exc
    rows = []
    if raw:
        make = plan.row
        processors = plan.results
        for record in raw:
            rows.append(
                make(*[p(v) if p is not None else v for p, v in zip(processors, record, strict=True)])
            )
    primary_key = None
    if plan.pk is not None:
        primary_key = (params[plan.pk] if params.get(plan.pk) is not None else cursor.lastrowid,)
    return Rows(rows, plan.keys, cursor.rowcount, primary_key)


class Rows:
    """The rows of one statement run by :func:`execute` (a small ``Result``)."""

    __slots__ = ("_rows", "_keys", "rowcount", "inserted_primary_key")

    def __init__(
        self, rows: list[Any], keys: list[str], rowcount: int, primary_key: tuple[Any] | None
    ) -> None:
        self._rows = rows
        self._keys = keys
        self.rowcount = rowcount
        self.inserted_primary_key = primary_key

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def keys(self) -> list[str]:
        return list(self._keys)

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            if not self._rows:
                raise sa_exc.NoResultFound("No row was found when one was required")
            raise sa_exc.MultipleResultsFound("Multiple rows were found when one was required")
        return self._rows[0]

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise sa_exc.MultipleResultsFound("Multiple rows were found when one or none was")
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return list(self._rows)

    def tuples(self) -> Rows:
        return self

    def mappings(self) -> Rows:
        return Rows([r._asdict() for r in self._rows], self._keys, self.rowcount, None)
