"""The baselines Frontdesk is measured against, as WSGI apps for gunicorn.

``json_app`` is bare Flask answering JSON (the floor any Flask app pays per request).
``insert_app`` is bare Flask inserting one row with SQLAlchemy Core per POST (the floor of any
write that reaches the database). ``BENCH_DATABASE_URL`` names the database; on SQLite it uses the
same settings Frontdesk does (WAL, ``synchronous=NORMAL``, a busy timeout) so the comparison is
about the code, not the storage settings.
"""

from __future__ import annotations

import os
import threading
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
    create_engine,
    event,
    insert,
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
