"""Prebuilt statements on SQLite's driver answer exactly as SQLAlchemy answers.

On PostgreSQL the same calls go through SQLAlchemy; the same assertions hold there.

``frontdesk.statements.execute`` skips SQLAlchemy's execution machinery for statements built once
(the lookups and row writes every request and inbound message makes). What comes back must be
what ``Connection.execute`` gives: converted dates, JSON and booleans, NULLs, generated keys, row
counts and SQLAlchemy's own exceptions.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, StatementError

from frontdesk import statements
from frontdesk.db import get_db, session, transaction
from frontdesk.models import Queue, Ticket, User

_users = User.__table__
_tickets = Ticket.__table__
_USER_BY_EMAIL = select(_users).where(_users.c.email == bindparam("email"))
_TICKET = select(
    _tickets.c.id, _tickets.c.created_at, _tickets.c.custom_fields, _tickets.c.pending_until
).where(_tickets.c.id == bindparam("ticket_id"))
_FIRST_ACTIVE = select(Queue.__table__.c.id).where(Queue.__table__.c.is_active.is_(True)).limit(1)
_INSERT_QUEUE = insert(Queue.__table__)
_RENAME = update(_users).where(_users.c.id == bindparam("user_id"))


def both(statement, params):
    """(fast, SQLAlchemy) answers of the same statement on the same connection."""
    conn = session.connection()
    return statements.execute(conn, statement, params), conn.execute(statement, params)


def ran_on_the_driver(statement, params) -> bool:
    plan = statements._PLANS.get((id(statement), frozenset(params)))
    return plan is not None and plan is not statements._NOT_FAST


def on_sqlite() -> bool:
    """The driver path is SQLite's; other databases must take SQLAlchemy's."""
    return get_db().engine.dialect.name == "sqlite"


def test_rows_convert_as_through_sqlalchemy(app, make_ticket, db):
    ticket = make_ticket(custom_fields={})
    db.commit()
    fast, slow = both(_TICKET, {"ticket_id": ticket.id})
    [row] = list(fast)
    assert tuple(row) == tuple(slow.one()) and ran_on_the_driver(_TICKET, {"ticket_id": 0}) == on_sqlite()
    assert row.created_at == ticket.created_at and row.created_at.tzinfo is not None
    assert row.custom_fields == {} and row.pending_until is None

    customer = ticket.customer
    fast, slow = both(_USER_BY_EMAIL, {"email": customer.email})
    assert fast.mappings().first() == dict(slow.mappings().first())
    assert fast.keys() == list(slow.keys())
    assert statements.execute(session.connection(), _USER_BY_EMAIL, {"email": "x@y"}).first() is None


def test_literals_built_into_a_statement_keep_their_values(app, make_queue):
    make_queue(key="first")
    fast, slow = both(_FIRST_ACTIVE, {})
    assert fast.scalar() == slow.scalar() is not None


def test_writes_give_keys_and_counts_and_sqlalchemys_errors(app, db, make_customer):
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    row = {
        "key": "fastq", "name": "Fast", "description": "", "email": None, "is_active": True,
        "custom_fields": [{"key": "x"}], "sla_policy": None, "routing": None, "created_at": now,
    }  # fmt: skip
    with transaction():
        result = statements.execute(session.connection(), _INSERT_QUEUE, row)
        [queue_id] = result.inserted_primary_key
        assert result.rowcount == 1 or not on_sqlite()  # PostgreSQL's RETURNING counts no rows
    assert ran_on_the_driver(_INSERT_QUEUE, row) == on_sqlite()
    queue = db.get(Queue, queue_id)
    assert (queue.name, queue.custom_fields, queue.created_at) == ("Fast", [{"key": "x"}], now)
    with pytest.raises(IntegrityError), transaction():  # the same key again
        statements.execute(session.connection(), _INSERT_QUEUE, row)

    customer = make_customer()
    db.commit()
    with transaction():
        changed = statements.execute(
            session.connection(), _RENAME, {"user_id": customer.id, "name": "Renamed"}
        )
        missing = statements.execute(
            session.connection(), _RENAME, {"user_id": customer.id + 999, "name": "Nobody"}
        )
    assert (changed.rowcount, missing.rowcount) == (1, 0)
    db.refresh(customer)
    assert customer.name == "Renamed"


def test_a_missing_value_is_sqlalchemys_error(app):
    with pytest.raises(StatementError, match="ticket_id"):
        statements.execute(session.connection(), _TICKET, {})


def test_watched_engines_get_every_statement(app, db, make_ticket):
    from sqlalchemy import event

    ticket = make_ticket()
    db.commit()
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement
    event.listen(get_db().engine, "before_cursor_execute", listener)
    try:
        statements.execute(session.connection(), _TICKET, {"ticket_id": ticket.id}).one()
    finally:
        event.remove(get_db().engine, "before_cursor_execute", listener)
    assert len(seen) == 1 and seen[0].startswith("SELECT ticket.id")


def test_statements_built_per_call_do_not_fill_memory(app, monkeypatch, make_queue):
    make_queue()
    before = len(statements._PLANS)
    monkeypatch.setattr(statements, "MAX_PLANS", before + 3)
    for _ in range(10):  # a new statement object every time, as a careless caller might
        fresh = select(Queue.__table__.c.id).where(Queue.__table__.c.is_active.is_(True))
        assert statements.execute(session.connection(), fresh, {}).first() is not None
    assert len(statements._PLANS) == (statements.MAX_PLANS if on_sqlite() else before)
