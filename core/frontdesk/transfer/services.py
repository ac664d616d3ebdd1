"""Import writers for organizations, users and queues, and the ticket number sequence.

These are services in the core's sense (each record validated, then written in one transaction
by the caller), but they write rows as the dump describes them rather than as a live change:
original timestamps are kept and no lifecycle event is fired. Importing is not something
happening now; a plugin must not greet a customer who signed up ten years ago.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select, update

from frontdesk.db import session
from frontdesk.models import Organization, Queue, Sequence, Tag, User
from frontdesk.services import ValidationFailed
from frontdesk.services.custom_fields import check_definitions
from frontdesk.services.people import QUEUE_KEY_RE, normalize_email
from frontdesk.services.validation import clean_text
from frontdesk.transfer.format import RecordError
from frontdesk.transfer.records import Lookups

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
_TRAILING_DIGITS = re.compile(r"(\d+)$")


class Resolver:
    """Natural keys to rows, cached for one import run.

    The cache holds the rows themselves: the session keeps only weak references, and loading the
    author of every message again would dominate an import. A failed record clears the cache,
    since rows cached during a rolled-back write may not exist.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.lookups = Lookups(session)
        self.sequence_floor = 0
        self._users: dict[str, User] = {}
        self._organizations: dict[str, Organization] = {}
        self._queues: dict[str, Queue] = {}
        self.tags: dict[str, Tag] = {}

    def remember(self, row: User | Organization | Queue) -> None:
        if isinstance(row, User):
            self._users[row.email.lower()] = row
            self.lookups.emails[row.id] = row.email
        elif isinstance(row, Organization):
            self._organizations[row.name] = row
        else:
            self._queues[row.key] = row

    def user(self, email: str | None, where: str) -> User | None:
        if email is None:
            return None
        found = self._find_user(email)
        if found is None:
            raise RecordError(f"{where}: unknown user {email!r}")
        return found

    def user_id(self, email: str) -> int | None:
        found = self._find_user(email)
        return found.id if found is not None else None

    def _find_user(self, email: str) -> User | None:
        lowered = email.strip().lower()
        if lowered not in self._users:
            found = session.scalar(select(User).where(func.lower(User.email) == lowered))
            if found is None:
                return None  # not cached: a later line may create this user
            self.remember(found)
        return self._users[lowered]

    def organization(self, name: str | None, where: str) -> Organization | None:
        if name is None:
            return None
        if name not in self._organizations:
            found = session.scalar(select(Organization).where(Organization.name == name))
            if found is None:
                raise RecordError(f"{where}: unknown organization {name!r}")
            self.remember(found)
        return self._organizations[name]

    def queue(self, key: str | None, where: str) -> Queue | None:
        if key is None:
            return None
        if key not in self._queues:
            found = session.scalar(select(Queue).where(Queue.key == key))
            if found is None:
                raise RecordError(f"{where}: unknown queue {key!r}")
            self.remember(found)
        return self._queues[key]


def apply(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _created_at(value: datetime | None) -> dict[str, Any]:
    # A dump without a creation time keeps the row's own (or lets the default apply).
    return {"created_at": value} if value is not None else {}


def import_organization(record: dict[str, Any], resolver: Resolver) -> str:
    name = clean_text("name", record["name"], max_length=200, required=True).strip()
    values = {
        "domains": [d.strip().lower() for d in record["domains"] if d.strip()],
        "shared_tickets": record["shared_tickets"],
        "notes": record["notes"],
        **_created_at(record["created_at"]),
    }
    org = session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name, **values)
        session.add(org)
        session.flush()
        resolver.remember(org)
        return CREATED
    return UPDATED if apply(org, values) else UNCHANGED


def import_user(record: dict[str, Any], resolver: Resolver) -> str:
    try:
        email = normalize_email(record["email"])
    except ValidationFailed:
        raise RecordError(f"email: {record['email']!r} is not a valid email address") from None
    values = {
        "name": clean_text("name", record["name"], max_length=200),
        "role": record["role"],
        "organization_id": _id(resolver.organization(record["organization"], "organization")),
        "language": record["language"],
        "timezone": record["timezone"],
        "is_active": record["is_active"],
        "vip": record["vip"],
        "plugin_data": record["plugin_data"],
        **_created_at(record["created_at"]),
    }
    try:
        user = resolver.user(email, "email")
    except RecordError:
        # No password: an imported person sets one through the reset flow (hashes never travel).
        user = User(email=email, password_hash=None, **values)
        session.add(user)
        session.flush()
        resolver.remember(user)
        return CREATED
    return UPDATED if apply(user, values) else UNCHANGED


def import_queue(record: dict[str, Any], resolver: Resolver) -> str:
    key = record["key"]
    if not QUEUE_KEY_RE.match(key):
        raise RecordError(f"key: {key!r} is not a queue key (lower-case letters, digits, - and _)")
    definitions = check_definitions(record["custom_fields"])
    members = []
    for index, email in enumerate(record["members"]):
        members.append(resolver.user(email, f"members.{index}"))
    values = {
        "name": clean_text("name", record["name"], max_length=200, required=True),
        "description": record["description"],
        "email": record["email"],
        "custom_fields": definitions,
        "routing": record["routing"],
        "sla_policy": record["sla_policy"],
        "is_active": record["is_active"],
        **_created_at(record["created_at"]),
    }
    queue = session.scalar(select(Queue).where(Queue.key == key))
    if queue is None:
        queue = Queue(key=key, **values)
        queue.members = members
        session.add(queue)
        session.flush()
        resolver.remember(queue)
        return CREATED
    changed = apply(queue, values)
    if {m.id for m in queue.members} != {m.id for m in members}:
        queue.members = members
        changed = True
    return UPDATED if changed else UNCHANGED


def raise_ticket_sequence(number: str, resolver: Resolver) -> None:
    """Keep the ticket counter at or above an imported number so new tickets never collide.

    The number's trailing digits are taken as its counter value (``FD-1042`` -> 1042), which is
    what the default generator writes.
    """
    match = _TRAILING_DIGITS.search(number)
    if match is None or int(match.group(1)) <= resolver.sequence_floor:
        return
    value = int(match.group(1))
    if resolver.sequence_floor == 0:
        current = session.scalar(select(Sequence.value).where(Sequence.name == "ticket"))
        if current is None:
            floor = max(value, current_app.config["TICKET_NUMBER_START"] - 1)
            session.execute(insert(Sequence).values(name="ticket", value=floor))
            resolver.sequence_floor = floor
            return
        resolver.sequence_floor = current
        if value <= current:
            return
    # A conditional UPDATE never lowers the counter, even with tickets being created meanwhile.
    session.execute(
        update(Sequence)
        .where(Sequence.name == "ticket", Sequence.value < value)
        .values(value=value)
        .execution_options(synchronize_session=False)
    )
    resolver.sequence_floor = value


def _id(row: Any) -> int | None:
    return row.id if row is not None else None
