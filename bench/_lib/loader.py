"""Bulk-load realistic tickets into a migrated, empty Frontdesk database.

A benchmark fixture, not the app's write path: rows go straight into the migrated tables with
SQLAlchemy Core ``executemany`` in batches of 10,000, each batch its own transaction, with
SQLite's ``synchronous=OFF`` for the load only. The data looks like a helpdesk two years old:
tickets numbered in creation order, most old ones solved or closed and the recent ones spread
over every status (``status_category`` matching the registered status), six queues of different
sizes, customers with several tickets each, some in organizations, agents on teams, one customer
message per ticket.

Values are written in the form the app's column types store them (UTC timestamps, JSON text)
through untyped table clauses, which skips SQLAlchemy's per-value conversions: at a million rows
those cost more than the database itself.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, column, create_engine, event, insert, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import TableClause

from _lib.instances import Instance, app_context

QUEUES = (  # key, name, share of the tickets in percent
    ("support", "Support", 40),
    ("technical", "Technical", 18),
    ("billing", "Billing", 15),
    ("sales", "Sales", 12),
    ("returns", "Returns", 10),
    ("partners", "Partners", 5),
)
# How likely each status is for a ticket last touched within RECENT (first) or before it.
RECENT_STATUSES = (
    ("new", 15),
    ("open", 35),
    ("pending", 15),
    ("on_hold", 5),
    ("solved", 20),
    ("closed", 10),
)
OLD_STATUSES = (
    ("open", 3),
    ("pending", 2),
    ("on_hold", 1),
    ("solved", 14),
    ("closed", 78),
    ("merged", 2),
)
PRIORITIES = (("low", 20), ("normal", 60), ("high", 15), ("urgent", 5))
CHANNELS = (("email", 60), ("webform", 25), ("api", 10), ("chat", 5))
LANGUAGES = (("en", 60), ("it", 12), ("ro", 10), ("ru", 10), ("fa", 8))
SUBJECTS = (
    "Cannot sign in to the portal",
    "Invoice shows the wrong amount",
    "Order arrived damaged",
    "How do I export my data?",
    "Password reset mail never arrives",
    "Upgrade to the team plan",
    "App crashes when uploading a photo",
    "Refund for a double charge",
    "Change the delivery address",
    "API returns 500 on large requests",
)
SPAN = timedelta(days=730)
RECENT = timedelta(days=30)
BATCH = 10_000


@dataclass
class LoadStats:
    """What the loader wrote and how long it took."""

    tickets: int
    customers: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.tickets / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Encode:
    """Turns Python values into what the app's column types store on one database.

    ``ts`` takes a naive UTC datetime (the loader computes in naive UTC because it is faster).
    """

    ts: Callable[[datetime | None], Any]
    js: Callable[[Any], str]


def _encoder(dialect: str) -> Encode:
    if dialect == "sqlite":
        # The text SQLAlchemy's SQLite DateTime writes: "YYYY-MM-DD HH:MM:SS.ffffff", UTC.
        return Encode(lambda d: None if d is None else d.isoformat(" ", "microseconds"), json.dumps)
    return Encode(lambda d: None if d is None else d.replace(tzinfo=UTC), json.dumps)


def _untyped(real: Table) -> TableClause:
    """``real``'s name and columns without their types, so values pass through unconverted."""
    return table(real.name, *(column(c.name) for c in real.columns))


def _load_engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _fast_load(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=OFF")  # for the load only; the app sets its own
            cursor.execute("PRAGMA cache_size=-262144")
            cursor.close()

    return engine


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Callable[[], Any]:
    """A picker returning each key with its weight's share (a lookup list: cheap per call)."""
    pool = [key for key, weight in pairs for _ in range(weight)]
    return lambda: pool[int(rng.random() * len(pool))]


def load_tickets(
    instance: Instance,
    count: int,
    *,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> LoadStats:
    """Fill the instance's (migrated, empty) database with ``count`` tickets and their people."""
    from frontdesk.db import Model

    started = time.monotonic()
    with app_context(instance) as app:
        registry = app.extensions["frontdesk.registry"]
        categories = {key: status.category for key, status in registry.statuses.items()}
        numbering = (app.config["TICKET_NUMBER_PREFIX"], int(app.config["TICKET_NUMBER_START"]))
    engine = _load_engine(instance.database_url)
    tables = {name: _untyped(t) for name, t in Model.metadata.tables.items()}
    enc = _encoder(engine.dialect.name)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    n_customers = max(100, count // 5)
    n_orgs = max(10, count // 2_000)
    customer_orgs = [
        rng.randint(1, n_orgs) if rng.random() < 0.3 else None for _ in range(n_customers)
    ]
    agents = _agents(enc, now, n_customers)
    try:
        with engine.begin() as conn:
            conn.execute(insert(tables["organization"]), _organizations(enc, n_orgs, now))
            conn.execute(insert(tables["queue"]), _queues(enc, now))
            conn.execute(insert(tables["user"]), [a for a, _ in agents])
            conn.execute(
                insert(tables["queue_member"]),
                [{"queue_id": q, "user_id": a["id"]} for a, qs in agents for q in qs],
            )
        for batch in _batches(_customers(enc, rng, customer_orgs, now), BATCH):
            with engine.begin() as conn:
                conn.execute(insert(tables["user"]), batch)
        queue_agents = {
            q: [a["id"] for a, qs in agents if q in qs] for q in range(1, len(QUEUES) + 1)
        }
        rows = _tickets(enc, rng, numbering, count, categories, queue_agents, customer_orgs, now)
        done = 0
        for batch in _batches(rows, BATCH):
            with engine.begin() as conn:
                conn.execute(insert(tables["ticket"]), [t for t, _ in batch])
                conn.execute(insert(tables["message"]), [m for _, m in batch])
            done += len(batch)
            if progress and done % 250_000 == 0:
                progress(f"{done:,} tickets loaded ({time.monotonic() - started:.0f} s)")
        with engine.begin() as conn:
            last = numbering[1] + count - 1
            conn.execute(insert(tables["sequence"]), [{"name": "ticket", "value": last}])
        _finish(engine)
    finally:
        engine.dispose()
    return LoadStats(count, n_customers, time.monotonic() - started)


def _finish(engine: Engine) -> None:
    """Leave the database as a running instance would have it after the load."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        # Explicit ids were loaded: move each id sequence past them so the app can insert.
        for name in ("organization", "queue", "user", "ticket", "message"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f'(SELECT max(id) FROM "{name}"))'
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")  # what autovacuum would soon do on a live server


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _organizations(enc: Encode, n: int, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "name": f"Organization {i}",
            "domains": enc.js([f"org{i}.example.com"]),
            "shared_tickets": i % 3 == 0,
            "notes": "",
            "created_at": enc.ts(now - SPAN),
        }
        for i in range(1, n + 1)
    ]


def _queues(enc: Encode, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "key": key,
            "name": name,
            "description": "",
            "email": None,
            "custom_fields": "[]",
            "routing": None,
            "sla_policy": None,
            "is_active": True,
            "created_at": enc.ts(now - SPAN),
        }
        for i, (key, name, _share) in enumerate(QUEUES, start=1)
    ]


def _user(
    enc: Encode, uid: int, email: str, role: str, now: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "id": uid,
        "email": email,
        "name": email.split("@")[0].title(),
        "role": role,
        "password_hash": None,
        "language": extra.get("language"),
        "timezone": "UTC",
        "organization_id": extra.get("organization_id"),
        "is_active": True,
        "vip": extra.get("vip", False),
        "plugin_data": "{}",
        "created_at": enc.ts(now - SPAN),
        "last_login_at": None,
    }


def _agents(enc: Encode, now: datetime, n_customers: int) -> list[tuple[dict[str, Any], list[int]]]:
    """Four agents per queue, every fourth one also on the next queue's team."""
    agents = []
    for i in range(4 * len(QUEUES)):
        queue = i // 4 + 1
        teams = [queue] if i % 4 else [queue, queue % len(QUEUES) + 1]
        uid = n_customers + i + 1
        agents.append((_user(enc, uid, f"agent{i}@helpdesk.example.com", "agent", now), teams))
    return agents


def _customers(
    enc: Encode, rng: random.Random, orgs: list[int | None], now: datetime
) -> Iterator[dict[str, Any]]:
    """Customers ``1..len(orgs)``; ``orgs[i]`` is customer ``i + 1``'s organization."""
    language = _weighted(rng, LANGUAGES)
    for uid, org in enumerate(orgs, start=1):
        domain = f"org{org}.example.com" if org else "mail.example.net"
        yield _user(
            enc,
            uid,
            f"customer{uid}@{domain}",
            "customer",
            now,
            language=language(),
            organization_id=org,
            vip=rng.random() < 0.02,
        )


def _tickets(
    enc: Encode,
    rng: random.Random,
    numbering: tuple[str, int],
    count: int,
    categories: dict[str, str],
    queue_agents: dict[int, list[int]],
    customer_orgs: list[int | None],
    now: datetime,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Tickets in creation order (ids, numbers and ``created_at`` rise together) with a message."""
    recent_status = _weighted(rng, tuple(p for p in RECENT_STATUSES if p[0] in categories))
    old_status = _weighted(rng, tuple(p for p in OLD_STATUSES if p[0] in categories))
    priority, channel = _weighted(rng, PRIORITIES), _weighted(rng, CHANNELS)
    queue_of = _weighted(rng, tuple((i, share) for i, (_k, _n, share) in enumerate(QUEUES, 1)))
    prefix, first_number = numbering
    start, step = now - SPAN, SPAN / max(count, 1)
    n_customers = len(customer_orgs)
    for i in range(count):
        tid = i + 1
        created = start + step * i + timedelta(seconds=rng.random() * 60)
        # Most tickets see their last change within days; some linger for weeks.
        updated = min(created + timedelta(hours=rng.expovariate(1 / 40)), now)
        status = recent_status() if now - updated < RECENT else old_status()
        category = categories[status]
        queue = queue_of()
        customer = int(rng.random() * n_customers) + 1
        subject = f"{SUBJECTS[tid % len(SUBJECTS)]} (#{tid})"
        ticket_channel = channel()
        ticket = {
            "id": tid,
            "number": f"{prefix}{first_number + i}",
            "subject": subject,
            "status": status,
            "status_category": category,
            "priority": priority(),
            "queue_id": queue,
            "assignee_id": None if category == "new" else rng.choice(queue_agents[queue]),
            "customer_id": customer,
            "organization_id": customer_orgs[customer - 1],
            "channel": ticket_channel,
            "language": None,
            "custom_fields": "{}",
            "plugin_data": "{}",
            "merged_into_id": None,
            "created_at": enc.ts(created),
            "updated_at": enc.ts(updated),
            "first_response_at": enc.ts(
                None if category == "new" else created + (updated - created) / 4
            ),
            "solved_at": enc.ts(updated if category in ("solved", "closed") else None),
            "closed_at": enc.ts(updated if category == "closed" else None),
            "pending_until": enc.ts(updated + timedelta(days=3) if category == "pending" else None),
            "version": 1,
        }
        message = {
            "id": tid,
            "ticket_id": tid,
            "kind": "customer",
            "channel": ticket_channel,
            "author_id": customer,
            "body_text": f"Hello, {subject.lower()}. Could you have a look? Thank you.",
            "body_html": None,
            "external_id": None,
            "meta": "{}",
            "created_at": enc.ts(created),
        }
        yield ticket, message
