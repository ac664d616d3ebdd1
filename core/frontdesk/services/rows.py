"""Writing a model with one statement, for the rows the busiest requests and messages write.

A flush through the unit of work costs several times the INSERT or UPDATE it emits (dependency
sorting, history, one pass per relationship), and on SQLite every writer waits while it runs:
opening a ticket writes a customer, a ticket and a message; a reply appends a message and
touches its ticket. :func:`insert_now` writes one new object straight away and leaves it
persistent in the session, and :func:`update_now` writes one object's changed columns, each
exactly as if it had been flushed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, event, insert, select, update
from sqlalchemy.orm import (
    Session,
    SessionTransaction,
    class_mapper,
    make_transient,
    make_transient_to_detached,
)
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import MANYTOONE
from sqlalchemy.sql.dml import Insert, Update

from frontdesk.db import get_db, read
from frontdesk.statements import execute

_INSERTED = "frontdesk.inserted_now"
_UPDATED = "frontdesk.updated_now"
T = TypeVar("T")


@dataclass(frozen=True)
class _Plan:
    """What :func:`insert_now` needs to know about a model, worked out once per mapper."""

    insert: Insert
    # many-to-one relationship -> [(foreign key attribute, attribute of the related object)]
    parents: list[tuple[str, list[tuple[str, str]]]]
    collections: list[str]
    others: list[str]  # one-to-one relationships the INSERT cannot write
    columns: list[tuple[str, str]]  # (attribute, column) written by the INSERT
    defaults: dict[str, Callable[[], Any]]  # attribute -> its default when left unset
    generated: list[tuple[str, str]]  # (attribute, column) of keys the database assigns
    primary_key: list[str]  # columns, in the order of ``inserted_primary_key``
    attribute_of: dict[str, str]  # column -> attribute
    # UPDATE ... WHERE <primary key> [AND <version>]: the SET clause is what the call gives;
    # None when a column computes a value on update (left to the flush, which reads it back).
    update: Update | None
    updatable: dict[str, str]  # attribute -> column, neither key nor version


_PLANS: dict[Any, _Plan] = {}


def _plan_for(mapper: Any) -> _Plan:
    plan = _PLANS.get(mapper)
    if plan is not None:
        return plan
    table = mapper.local_table
    parents, collections, others = [], [], []
    for rel in mapper.relationships:
        if rel.direction is MANYTOONE:
            pairs = [
                (
                    mapper.get_property_by_column(local).key,
                    rel.mapper.get_property_by_column(remote).key,
                )
                for local, remote in rel.local_remote_pairs
            ]
            parents.append((rel.key, pairs))
        elif rel.uselist:
            collections.append(rel.key)
        else:
            others.append(rel.key)
    columns, defaults, generated = [], {}, []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.table is not table:
            continue
        if column.primary_key and column.autoincrement in (True, "auto"):
            generated.append((prop.key, column.key))
            continue
        columns.append((prop.key, column.key))
        defaults[prop.key] = _default(mapper, column)
    plan = _Plan(
        insert(table),
        parents,
        collections,
        others,
        columns,
        defaults,
        generated,
        [c.key for c in table.primary_key.columns],
        {column: key for key, column in columns + generated},
        _update_for(mapper),
        {
            key: column
            for key, column in columns
            if not table.c[column].primary_key and table.c[column] is not mapper.version_id_col
        },
    )
    _PLANS[mapper] = plan
    return plan


def new_model(cls: type[T], **values: Any) -> T:
    """A new (transient) ``cls`` with ``values``, for :func:`insert_now`.

    Cheaper than the constructor, which fires a change event per attribute, none of which
    matters before the first write: plain values go straight into the instance's dict. Dicts
    and lists are assigned, so a mutable JSON column tracks changes inside and a collection
    fires its events. The other side of a relationship is not updated: set only many-to-one
    relationships whose other side is not loaded, or set it with ``set_committed_value``.
    """
    obj = cls()
    state = instance_state(obj)
    given = state.dict
    for key, value in values.items():
        if key not in state.manager:  # as the constructor refuses it
            raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
        if isinstance(value, (dict, list)):
            setattr(obj, key, value)
        else:
            given[key] = value
    return obj


@dataclass
class NewRow:
    """A new object's column values, ready for an INSERT (see :func:`new_row`)."""

    obj: Any
    values: dict[str, Any]  # column -> value
    later: dict[str, list[Any]]  # collections whose items the next flush writes


def insert_now(obj: Any) -> None:
    """INSERT the new (transient) model ``obj`` now and make it persistent in the session.

    Columns left unset take their Python-side defaults (the version counter starts at 1);
    many-to-one relationships give the foreign keys, and a related object not yet written is
    flushed first. Items of collections are written by the next flush, as usual; an empty
    collection stays loaded (reading it costs no query). Attributes never set are expired and
    load when first read.
    """
    row = new_row(obj)
    plan = _plan_for(instance_state(obj).mapper)
    result = execute(get_db().Session().connection(), plan.insert, row.values)
    mark_inserted(row, dict(zip(plan.primary_key, result.inserted_primary_key, strict=True)))


def new_row(obj: Any) -> NewRow:
    """What :func:`insert_now` writes for the new model ``obj``, for a statement of one's own.

    For an INSERT the plain one cannot express (a column computed by SQL, a row skipped on a
    conflict): run it with ``values`` (without the columns it computes), then hand what it
    returned to :func:`mark_inserted`. An object whose row was not written stays new.
    """
    state = instance_state(obj)
    if state.key is not None or state.session_id is not None:
        raise ValueError(f"{obj!r} is not a new object")
    plan = _plan_for(state.mapper)
    given = state.dict
    for key in plan.others:
        if given.get(key) is not None:
            raise ValueError(f"insert_now() cannot write {key}; set it afterwards")
    later: dict[str, list[Any]] = {}
    for key in plan.collections:
        if given.get(key):  # written by the next flush, once the row exists
            later[key] = list(given.pop(key))
    for key, pairs in plan.parents:
        if key not in given:
            continue
        parent = given[key]
        if parent is not None and instance_state(parent).key is None:  # not written yet
            sess = get_db().Session()
            sess.add(parent)
            sess.flush()
        # Plain values go straight into the instance's dict: the object is marked clean right
        # after the INSERT, so the change tracking of an attribute assignment is wasted work.
        for local, remote in pairs:
            given[local] = None if parent is None else getattr(parent, remote)
    for key, make_default in plan.defaults.items():
        if key not in given:
            value = make_default()
            if isinstance(value, (dict, list)):
                setattr(obj, key, value)  # assigned, so a mutable column tracks changes inside
            else:
                given[key] = value
    values = {column: given[key] for key, column in plan.columns}
    for key, column in plan.generated:
        if key in given:
            values[column] = given[key]
    return NewRow(obj, values, later)


def mark_inserted(row: NewRow, returned: Mapping[str, Any]) -> None:
    """Make ``row.obj`` persistent once its row is written, as :func:`insert_now` does.

    ``returned`` maps the columns the database assigned (the primary key, computed columns) to
    their values.
    """
    obj = row.obj
    state = instance_state(obj)
    plan = _plan_for(state.mapper)
    given = state.dict
    for column, value in returned.items():
        given[plan.attribute_of[column]] = value
    make_transient_to_detached(obj)
    sess = get_db().Session()
    sess.add(obj)
    # The session did not see this INSERT: remember it, so a rollback drops the object as it
    # drops the ones it flushed (see _forget_rolled_back).
    tx = sess.get_nested_transaction() or sess.get_transaction()
    sess.info.setdefault(_INSERTED, []).append((obj, tx))
    for key, items in row.later.items():
        set_committed_value(obj, key, [])
        setattr(obj, key, items)


def loaded(cls: type[T], row: Mapping[str, Any]) -> T:
    """The ``cls`` object for ``row``, a whole row of its table read with a Core statement.

    The object is persistent in the session exactly as if the ORM had loaded it (mutable JSON
    columns track changes, relationships load when read); the session's own object is returned
    when it already holds that row. For the lookups every request makes (the signed-in user,
    the queue a request names), where the ORM's loading costs several times the query.
    """
    mapper = class_mapper(cls)
    plan = _plan_for(mapper)
    sess = get_db().Session()
    key = mapper.identity_key_from_primary_key([row[c] for c in plan.primary_key])
    obj = sess.identity_map.get(key)
    if obj is not None:
        return obj  # type: ignore[no-any-return]
    obj = mapper.class_manager.new_instance()
    state = instance_state(obj)
    given = state.dict
    for column, attribute in plan.attribute_of.items():
        given[attribute] = row[column]
    make_transient_to_detached(obj)  # every column loaded, nothing changed
    sess.add(obj)
    state.manager.dispatch.load(state, None)  # as after an ORM load: JSON values become tracked
    return obj  # type: ignore[no-any-return]


_BY_KEY: dict[Any, Select[Any]] = {}


def load_by_key(cls: type[T], ident: Any) -> T | None:
    """:func:`frontdesk.db.load`: the session's object for the key, or the row made into one."""
    mapper = class_mapper(cls)
    plan = _plan_for(mapper)
    sess = get_db().Session()
    if len(plan.primary_key) != 1:
        return sess.get(cls, ident)
    obj = sess.identity_map.get(mapper.identity_key_from_primary_key([ident]))
    if obj is not None:
        state = instance_state(obj)
        if state._deleted or obj in sess.deleted:
            return None
        return obj  # type: ignore[no-any-return]
    statement = _BY_KEY.get(mapper)
    if statement is None:
        table = mapper.local_table
        statement = select(table).where(table.c[plan.primary_key[0]] == bindparam("ident"))
        _BY_KEY[mapper] = statement
    row = read(statement, ident=ident).mappings().first()
    return loaded(cls, row) if row is not None else None


def _update_for(mapper: Any) -> Update | None:
    table = mapper.local_table
    if any(column.onupdate is not None or column.server_onupdate is not None for column in table.c):
        return None
    where = [column == bindparam(f"_old_{column.key}") for column in table.primary_key.columns]
    version = mapper.version_id_col
    if version is not None:
        if mapper.version_id_generator is False:  # the database keeps the version
            return None
        where.append(version == bindparam(f"_old_{version.key}"))
    return update(table).where(*where)


def update_now(obj: Any) -> bool:
    """UPDATE the changed columns of the persistent ``obj`` now; it is clean afterwards.

    One statement, with the version check of a versioned model (a stale version raises
    ``StaleDataError`` as a flush does, which :func:`frontdesk.db.transaction` turns into
    ``StaleVersion``). An object with other changes (a relationship, a collection) is left
    to the next flush, as is one that is new, deleted or unchanged. Returns whether it wrote.
    """
    state = instance_state(obj)
    sess = get_db().Session()
    if state.key is None or state.session_id != sess.hash_key or not state.committed_state:
        return False
    if state._deleted or obj in sess.deleted:
        return False
    mapper = state.mapper
    plan = _plan_for(mapper)
    if plan.update is None:
        return False
    given = state.dict
    params: dict[str, Any] = {}
    for key in state.committed_state:
        column = plan.updatable.get(key)
        if column is None or key not in given:
            return False  # a relationship, the key or the version: the flush knows how
        params[column] = given[key]
    for column in plan.primary_key:
        params[f"_old_{column}"] = given[plan.attribute_of[column]]
    version = mapper.version_id_col
    if version is not None:
        attribute = plan.attribute_of[version.key]
        old = given[attribute]
        params[f"_old_{version.key}"] = old
        params[version.key] = mapper.version_id_generator(old)
    matched = execute(sess.connection(), plan.update, params).rowcount
    if matched != 1:
        raise StaleDataError(
            f"UPDATE statement on table '{mapper.local_table.name}' expected to update 1 "
            f"row(s); {matched} were matched."
        )
    if version is not None:
        given[attribute] = params[version.key]
    state._commit_all(given, sess.identity_map)  # as a flush leaves it: nothing pending
    # The session did not see this UPDATE: remember it, so a rollback expires the object as
    # it expires the ones it flushed (see _forget_rolled_back).
    tx = sess.get_nested_transaction() or sess.get_transaction()
    sess.info.setdefault(_UPDATED, []).append((obj, tx))
    return True


def _default(mapper: Any, column: Any) -> Callable[[], Any]:
    if mapper.version_id_col is column:
        return lambda: 1
    default = column.default
    if default is None:
        return lambda: None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a no-argument default for a context
    if default.is_scalar:
        return lambda: default.arg
    raise ValueError(f"column {column.key}: a SQL default is not supported by insert_now()")


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(sess: Session, previous: SessionTransaction) -> None:
    """Undo in memory what :func:`insert_now` and :func:`update_now` wrote in a transaction (or
    savepoint) that rolled back: an inserted object is new again, an updated one expired."""
    entries = sess.info.get(_INSERTED)
    if entries:
        kept = []
        for obj, tx in entries:
            if _within(tx, previous):
                if obj in sess:
                    sess.expunge(obj)
                make_transient(obj)  # its row is gone: it is a new object again
            else:
                kept.append((obj, tx))
        sess.info[_INSERTED] = kept
    entries = sess.info.get(_UPDATED)
    if entries:
        kept = []
        for obj, tx in entries:
            if not _within(tx, previous):
                kept.append((obj, tx))
            elif obj in sess:
                sess.expire(obj)  # its row holds the old values again: read them when used
        sess.info[_UPDATED] = kept


@event.listens_for(Session, "after_transaction_create")
def _forget_earlier(sess: Session, created: SessionTransaction) -> None:
    if created.parent is None:  # the last outermost transaction ended: nothing left to undo
        sess.info.pop(_INSERTED, None)
        sess.info.pop(_UPDATED, None)


def _within(tx: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while tx is not None:
        if tx is outer:
            return True
        tx = tx.parent
    return False
