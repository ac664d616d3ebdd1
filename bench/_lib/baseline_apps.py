"""The baselines Frontdesk is measured against, as WSGI apps for gunicorn.

``json_app`` is bare Flask answering JSON (the floor any Flask app pays per request).
``insert_app`` is bare Flask inserting one row with SQLAlchemy Core per POST (the floor of any
write that reaches the database). ``statements_app`` runs the SQL statements of a Frontdesk
ticket create, by hand (see below), and ``raw_statements_app`` the same as SQL text on the sqlite3
module's connection. ``BENCH_DATABASE_URL`` names the database; on SQLite it uses
the same settings Frontdesk does (WAL, ``synchronous=NORMAL``, a busy timeout) so the comparison is
about the code, not the storage settings.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()
item = Table(
    "bench_item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the baseline table; creates the table if it is missing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20)
    metadata.create_all(engine)
    return engine


json_app = Flask("bench_json")


@json_app.route("/json", methods=["GET", "POST"])
def answer_json():
    if request.method == "POST":
        data = request.get_json()
        return jsonify({"ok": True, "subject": data.get("subject")}), 201
    return jsonify({"ok": True, "items": []})


insert_app = Flask("bench_insert")
_engine: Engine | None = None
_engine_lock = threading.Lock()


def _get_engine() -> Engine:
    global _engine
    with _engine_lock:
        if _engine is None:  # created in the worker, after gunicorn forked
            _engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    return _engine


@insert_app.post("/insert")
def insert_one():
    data = request.get_json()
    row = {
        "email": data["customer"]["email"],
        "subject": data["subject"],
        "body": data["body_text"],
        "created_at": datetime.now(UTC),
    }
    with _get_engine().begin() as conn:
        new_id = conn.execute(insert(item).returning(item.c.id), row).scalar_one()
    return jsonify({"id": new_id, "subject": row["subject"]}), 201


# --- The statements of a ticket create, without the framework ------------------------------
#
# ``statements_app`` runs, per POST, the SQL a Frontdesk create runs on a migrated Frontdesk
# database (token user, queue, customer insert-or-find, ticket number, ticket, first message,
# history event, commit), written by hand with SQLAlchemy Core in bare Flask, and queues SQLite
# writers as Frontdesk does (one per process, then a file lock across processes). No plugins,
# no hooks, no ORM objects, no access rules, no validation beyond the body's shape: it is the
# floor under any implementation of the create, the figure the framework's own cost is read
# against. ``BENCH_DATABASE_URL`` names the migrated database.

statements_app = Flask("bench_statements")
_statements_lock = threading.Lock()
_statements: dict[str, Any] = {}


def _statements_engine() -> tuple[Engine, Any]:
    """The engine for the Frontdesk database and the SQLite lock file's descriptor (or None)."""
    with _statements_lock:
        if not _statements:  # created in the worker, after gunicorn forked
            url = os.environ["BENCH_DATABASE_URL"]
            if url.startswith("sqlite"):
                connect_args = {"check_same_thread": False, "timeout": 30}
                engine = create_engine(url, connect_args=connect_args)

                @event.listens_for(engine, "connect")
                def _connect(dbapi_connection: Any, _record: Any) -> None:
                    dbapi_connection.isolation_level = None  # BEGIN IMMEDIATE is sent by hand
                    _sqlite_pragmas(dbapi_connection, _record)
                    dbapi_connection.execute("PRAGMA foreign_keys=ON")

                database = url.split("///", 1)[1]
                lock_fd = os.open(f"{database}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
            else:
                engine, lock_fd = create_engine(url, pool_size=10, max_overflow=20), None
            _statements.update(engine=engine, lock_fd=lock_fd, writers=threading.Lock())
    return _statements["engine"], _statements["lock_fd"]


@contextlib.contextmanager
def _write_transaction(conn: Any, lock_fd: Any) -> Iterator[None]:
    """One write transaction on ``conn``; on SQLite queued like Frontdesk's writers."""
    if lock_fd is None:
        with conn.begin():
            yield
        return
    with _statements["writers"]:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)


@functools.cache
def _create_statements(dialect: str) -> dict[str, Any]:
    from frontdesk.models import ApiToken, Event, Message, Queue, Ticket, User
    from frontdesk.models import Sequence as SequenceRow
    from sqlalchemy.dialects import postgresql, sqlite

    users, tokens, queues = User.__table__, ApiToken.__table__, Queue.__table__
    sequences = SequenceRow.__table__
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return {
        "token_user": select(users)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == bindparam("hash"), tokens.c.revoked_at.is_(None)),
        "queue": select(queues.c.id, queues.c.key).where(queues.c.key == bindparam("key")),
        "customer": upsert(users).on_conflict_do_nothing(index_elements=["email"]).returning(
            users.c.id
        ),
        "customer_id": select(users.c.id).where(users.c.email == bindparam("email")),
        "number": update(sequences)
        .where(sequences.c.name == "ticket")
        .values(value=sequences.c.value + 1)
        .returning(sequences.c.value),
        "first_number": insert(sequences),
        "ticket": insert(Ticket.__table__).returning(Ticket.__table__.c.id),
        "message": insert(Message.__table__),
        "event": insert(Event.__table__),
    }


@statements_app.post("/statements")
def create_by_statements():
    engine, lock_fd = _statements_engine()
    sql = _create_statements(engine.dialect.name)
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    data = request.get_json()
    customer, subject = data["customer"], data["subject"]
    if not isinstance(subject, str) or not isinstance(customer.get("email"), str):
        return jsonify({"title": "invalid body"}), 422
    now = datetime.now(UTC)
    with engine.connect() as conn:
        params = {"hash": hashlib.sha256(token.encode()).hexdigest()}
        agent = conn.execute(sql["token_user"], params).mappings().first()
        if agent is None or not agent["is_active"]:
            return jsonify({"title": "unauthorized"}), 401
        queue = conn.execute(sql["queue"], {"key": data["queue"]}).one()
        conn.rollback()  # end the read before queuing for the write
        email = customer["email"].strip().lower()
        with _write_transaction(conn, lock_fd):
            new_user = {"email": email, "name": customer.get("name", ""), "role": "customer"}
            new_user.update(timezone="UTC", is_active=True, vip=False, plugin_data={})
            customer_id = conn.execute(sql["customer"], dict(new_user, created_at=now)).scalar()
            if customer_id is None:
                customer_id = conn.execute(sql["customer_id"], {"email": email}).scalar_one()
            number = conn.execute(sql["number"]).scalar()
            if number is None:
                number = 1000
                conn.execute(sql["first_number"], {"name": "ticket", "value": number})
            ticket = {"number": str(number), "subject": subject, "status": "new"}
            ticket.update(status_category="new", priority="normal", queue_id=queue.id)
            ticket.update(customer_id=customer_id, channel="api", custom_fields={})
            ticket.update(plugin_data={}, created_at=now, updated_at=now, version=1)
            ticket_id = conn.execute(sql["ticket"], ticket).scalar_one()
            message = {"ticket_id": ticket_id, "kind": "customer", "channel": "api"}
            message.update(author_id=customer_id, body_text=data.get("body_text", ""), meta={})
            conn.execute(sql["message"], dict(message, created_at=now))
            created = {"subject": subject, "status": "new", "priority": "normal"}
            created.update(queue=queue.key, channel="api")
            event_row = {"ticket_id": ticket_id, "actor_id": agent["id"], "action": "created"}
            conn.execute(sql["event"], dict(event_row, new=created, source="", created_at=now))
    answer = dict(ticket, id=ticket_id, queue=queue.key, customer={"id": customer_id})
    answer.update(created_at=now.isoformat(), updated_at=now.isoformat())
    return jsonify(answer), 201


# The same statements once more, as SQL text on the sqlite3 module's own connection (SQLite
# only): what the create's writes cost without SQLAlchemy, compiled statements or type handling.
raw_statements_app = Flask("bench_raw_statements")
_raw = threading.local()

_RAW_SQL = {
    "token_user": "SELECT user.id, user.is_active FROM user JOIN api_token"
    " ON api_token.user_id = user.id"
    " WHERE api_token.token_hash = ? AND api_token.revoked_at IS NULL",
    "queue": 'SELECT id, "key" FROM queue WHERE "key" = ?',
    "customer": "INSERT INTO user (email, name, role, timezone, is_active, vip, plugin_data,"
    " created_at) VALUES (?, ?, 'customer', 'UTC', 1, 0, '{}', ?)"
    " ON CONFLICT (email) DO NOTHING RETURNING id",
    "customer_id": "SELECT id FROM user WHERE email = ?",
    "number": "UPDATE sequence SET value = value + 1 WHERE name = 'ticket' RETURNING value",
    "first_number": "INSERT INTO sequence (name, value) VALUES ('ticket', ?)",
    "ticket": "INSERT INTO ticket (number, subject, status, status_category, priority, queue_id,"
    " customer_id, channel, custom_fields, plugin_data, created_at, updated_at, version)"
    " VALUES (?, ?, 'new', 'new', 'normal', ?, ?, 'api', '{}', '{}', ?, ?, 1) RETURNING id",
    "message": "INSERT INTO message (ticket_id, kind, channel, author_id, body_text, meta,"
    " created_at) VALUES (?, 'customer', 'api', ?, ?, '{}', ?)",
    "event": "INSERT INTO event (ticket_id, actor_id, action, new, source, created_at)"
    " VALUES (?, ?, 'created', ?, '', ?)",
}


def _raw_connection() -> sqlite3.Connection:
    """This thread's connection to the SQLite database of ``BENCH_DATABASE_URL``."""
    conn = getattr(_raw, "conn", None)
    if conn is None:
        database = os.environ["BENCH_DATABASE_URL"].split("///", 1)[1]
        conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False, timeout=30)
        _sqlite_pragmas(conn, None)
        conn.execute("PRAGMA foreign_keys=ON")
        _raw.conn = conn
        with _statements_lock:
            if "raw_lock_fd" not in _statements:
                lock_fd = os.open(f"{database}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
                _statements.update(raw_lock_fd=lock_fd, raw_writers=threading.Lock())
    return conn


@raw_statements_app.post("/raw-statements")
def create_by_raw_statements():
    conn, sql = _raw_connection(), _RAW_SQL
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    data = request.get_json()
    customer, subject = data["customer"], data["subject"]
    if not isinstance(subject, str) or not isinstance(customer.get("email"), str):
        return jsonify({"title": "invalid body"}), 422
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    agent = conn.execute(sql["token_user"], (token_hash,)).fetchone()
    if agent is None or not agent[1]:
        return jsonify({"title": "unauthorized"}), 401
    queue_id, queue_key = conn.execute(sql["queue"], (data["queue"],)).fetchone()
    email = customer["email"].strip().lower()
    with _statements["raw_writers"]:
        fcntl.flock(_statements["raw_lock_fd"], fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                name = customer.get("name", "")
                row = conn.execute(sql["customer"], (email, name, now)).fetchone()
                if row is None:
                    row = conn.execute(sql["customer_id"], (email,)).fetchone()
                customer_id = row[0]
                row = conn.execute(sql["number"]).fetchone()
                number = row[0] if row else 1000
                if row is None:
                    conn.execute(sql["first_number"], (number,))
                values = (str(number), subject, queue_id, customer_id, now, now)
                ticket_id = conn.execute(sql["ticket"], values).fetchone()[0]
                body = data.get("body_text", "")
                conn.execute(sql["message"], (ticket_id, customer_id, body, now))
                created = {"subject": subject, "status": "new", "priority": "normal"}
                created.update(queue=queue_key, channel="api")
                conn.execute(sql["event"], (ticket_id, agent[0], json.dumps(created), now))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            fcntl.flock(_statements["raw_lock_fd"], fcntl.LOCK_UN)
    answer = {"id": ticket_id, "number": str(number), "subject": subject, "status": "new"}
    answer.update(queue=queue_key, customer={"id": customer_id}, created_at=now, updated_at=now)
    return jsonify(answer), 201
