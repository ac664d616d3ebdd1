"""Users, organizations and queues."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert

from frontdesk.db import get_db, in_transaction, read, session, transaction
from frontdesk.models import ROLES, Organization, Queue, User
from frontdesk.services import custom_fields as cf
from frontdesk.services.errors import Conflict, ValidationFailed
from frontdesk.services.rows import insert_now, loaded, mark_inserted, new_model, new_row
from frontdesk.services.validation import clean_text

EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
QUEUE_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _hasher() -> PasswordHasher:
    params = current_app.config.get("PASSWORD_HASH_PARAMS") or {}
    return PasswordHasher(**params)


def normalize_email(email: Any) -> str:
    if not isinstance(email, str):
        raise ValidationFailed("email must be text", {"email": ["must be a string"]})
    email = email.strip()
    if len(email) > 320 or not EMAIL_RE.match(email):
        raise ValidationFailed("invalid email address", {"email": ["not a valid email address"]})
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


# Lookups run on most requests (every inbound mail looks up its sender): a Core statement built
# once, its row made into the session's object without the ORM's query machinery.
_users = User.__table__
_USER_BY_EMAIL = select(_users).where(func.lower(_users.c.email) == bindparam("email"))


def find_user_by_email(email: str) -> User | None:
    row = read(_USER_BY_EMAIL, email=normalize_email(email).lower()).mappings().first()
    return loaded(User, row) if row is not None else None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_strength(password: Any) -> str:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if not isinstance(password, str) or len(password) < minimum:
        raise ValidationFailed(
            "password too short", {"password": [f"at least {minimum} characters"]}
        )
    if "\x00" in password or len(password) > 1024:
        raise ValidationFailed("invalid password", {"password": ["not an acceptable password"]})
    return password


def create_user(
    *,
    email: str,
    name: str = "",
    role: str = "customer",
    password: str | None = None,
    language: str | None = None,
    timezone: str = "UTC",
    organization: Organization | None = None,
    queues: Sequence[Queue] = (),
    vip: bool = False,
) -> User:
    if role not in ROLES:
        raise ValidationFailed("unknown role", {"role": [f"one of {', '.join(ROLES)}"]})
    email = normalize_email(email)
    name = clean_text("name", name, max_length=200)
    # Hashing is slow on purpose: do it before taking the write lock, not while holding it.
    password_hash = None
    if password is not None:
        password_hash = hash_password(check_password_strength(password))
    with transaction():
        if find_user_by_email(email) is not None:
            raise Conflict(
                f"a user with email {email} already exists", {"email": ["already in use"]}
            )
        return _add_user(
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            language=language,
            timezone=timezone,
            organization=organization or organization_for_email(email),
            queues=queues,
            vip=vip,
        )


def _add_user(
    *,
    email: str,
    name: str,
    role: str,
    password_hash: str | None = None,
    language: str | None = None,
    timezone: str = "UTC",
    organization: Organization | None = None,
    queues: Sequence[Queue] = (),
    vip: bool = False,
) -> User:
    """Insert a user whose email, name and role are already checked (inside a transaction).

    ``organization`` is the user's, already looked up (see :func:`organization_for_email`).
    """
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=password_hash,
        language=language,
        timezone=timezone,
        organization=organization,
        vip=vip,
        plugin_data={},
    )
    insert_now(user)
    if queues:
        user.queues = list(queues)
        session.flush()
    else:
        set_committed_value(user, "queues", [])  # known to be none: reading them costs nothing
    return user


USER_FIELDS = (
    "email", "name", "role", "language", "timezone", "organization", "queues", "vip", "is_active"
)


def update_user(user: User, **changes: Any) -> User:
    """Change a user's profile, role, teams or active flag (the password: ``set_password``)."""
    unknown = sorted(set(changes) - set(USER_FIELDS))
    if unknown:
        raise ValidationFailed("unknown fields", {k: ["unknown field"] for k in unknown})
    if "role" in changes and changes["role"] not in ROLES:
        raise ValidationFailed("unknown role", {"role": [f"one of {', '.join(ROLES)}"]})
    with transaction():
        if "email" in changes:
            email = normalize_email(changes["email"])
            other = find_user_by_email(email)
            if other is not None and other.id != user.id:
                raise Conflict(
                    f"a user with email {email} already exists", {"email": ["already in use"]}
                )
            changes["email"] = email
        if "name" in changes:
            changes["name"] = clean_text("name", changes["name"], max_length=200)
        if "queues" in changes:
            changes["queues"] = list(changes["queues"])
        for name, value in changes.items():
            setattr(user, name, value)
    return user


def update_organization(org: Organization, **changes: Any) -> Organization:
    """Change an organization's name, claimed email domains, sharing or notes."""
    allowed = {"name", "domains", "shared_tickets", "notes"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed("unknown fields", {k: ["unknown field"] for k in unknown})
    with transaction():
        if "name" in changes:
            name = clean_text("name", changes["name"], max_length=200, required=True).strip()
            other = session.scalar(select(Organization).where(Organization.name == name))
            if other is not None and other.id != org.id:
                raise Conflict(f"organization {name!r} exists", {"name": ["already in use"]})
            changes["name"] = name
        if "domains" in changes:
            changes["domains"] = [d.strip().lower() for d in changes["domains"] if d.strip()]
        for name, value in changes.items():
            setattr(org, name, value)
    return org


_org = Organization.__table__
_ORG_DOMAINS = (
    select(_org.c.id, _org.c.domains).where(_org.c.domains.is_not(None)).order_by(_org.c.id)
)
_ORG_DOMAINS_LIKE = _ORG_DOMAINS.where(
    func.lower(cast(_org.c.domains, Text)).like(bindparam("pattern"), "\\")
)


def organization_for_email(email: str) -> Organization | None:
    """The organization that claims the email's domain, if any (the lowest id if several do)."""
    domain = email.rpartition("@")[2].lower()
    if not domain:
        return None
    pattern = _domain_pattern(domain)
    if pattern is not None:
        rows = session.connection().execute(_ORG_DOMAINS_LIKE, {"pattern": pattern})
    else:
        rows = session.connection().execute(_ORG_DOMAINS)
    return _claiming(domain, rows)


def _domain_pattern(domain: str) -> str | None:
    """A LIKE pattern the JSON text of every ``domains`` list holding ``domain`` matches.

    ``domains`` is a JSON list, so its text holds each domain as a quoted JSON string: the
    database skips every organization whose text cannot contain this one, and no model is built
    for the others. :func:`_claiming` still decides. ``None`` beyond ASCII, where the JSON text
    holds escapes.
    """
    if not domain.isascii():
        return None
    quoted = json.dumps(domain).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{quoted}%"


def _claiming(domain: str, rows: Iterable[Any]) -> Organization | None:
    """The first organization of ``(id, domains)`` rows whose domains hold ``domain``."""
    for org_id, domains in rows:
        if domain in [d.lower() for d in domains or []]:
            return session.get(Organization, org_id)
    return None


def set_password(user: User, password: str) -> None:
    with transaction():
        user.password_hash = hash_password(check_password_strength(password))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or ``None`` (timing kept similar)."""
    try:
        user = find_user_by_email(email)
    except ValidationFailed:
        user = None
    hasher = _hasher()
    if user is None or not user.password_hash or not user.is_active:
        hasher.hash("not-a-real-password")  # spend the same time as a real check
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        with transaction():
            user.password_hash = hasher.hash(password)
    return user


def get_or_create_customer(email: str, name: str = "", language: str | None = None) -> User:
    """The user with ``email``, created as a customer on first contact."""
    email = normalize_email(email)
    # Most mail and most requests come from people seen before: look first. A lookup costs
    # about a third of an INSERT that finds the address taken (measured on SQLite: 130 us
    # against 450), and a new address pays the lookup on top of its INSERT (410 against 345).
    user = find_user_by_email(email)
    if user is not None:
        return user
    if not in_transaction():
        # Looked up outside any transaction: someone may have added the address since.
        return create_user(email=email, name=name, role="customer", language=language)
    # Inside the caller's transaction the INSERT still checks: it writes nothing when another
    # writer took the address since the lookup (PostgreSQL), and then the user is looked up.
    name = clean_text("name", name, max_length=200)
    user = _insert_customer(email, name, language) or find_user_by_email(email)
    assert user is not None  # the INSERT skipped the row: the address is taken
    return user


def _insert_customer(email: str, name: str, language: str | None) -> User | None:
    """A new customer with the (normalised) ``email``, or ``None`` if a user has the address.

    One statement: the INSERT skips a row whose address is taken, and finds the organization
    that claims the domain itself (checked here afterwards, see :func:`_claiming`).
    """
    if session.autoflush:  # as an ORM query would: users and organizations not yet written count
        session.flush()
    user = new_model(User, email=email, name=name, role="customer", language=language)
    row = new_row(user)
    domain = email.rpartition("@")[2].lower()
    pattern = _domain_pattern(domain)
    params = dict(row.values)
    if pattern is None:  # the database cannot narrow the organizations down: look here
        organization = organization_for_email(email)
        params["organization_id"] = organization.id if organization else None
    else:
        del params["organization_id"]
        params["pattern"] = pattern
    statement = _customer_insert(get_db().dialect, computed=pattern is not None)
    returned = session.connection().execute(statement, params).mappings().first()
    if returned is None:
        return None
    mark_inserted(row, returned)
    if pattern is not None and user.organization_id is not None:
        organization = session.get(Organization, user.organization_id)
        if organization is None or domain not in [d.lower() for d in organization.domains or []]:
            # The JSON text matched, but no domain of the list is this one.
            user.organization = organization_for_email(email)
    set_committed_value(user, "queues", [])  # known to be none: reading them costs nothing
    return user


# The organization claiming a domain as far as the JSON text of ``domains`` tells (see
# _domain_pattern): the lowest id whose text holds the quoted domain.
_CLAIMED_BY = (
    select(_org.c.id)
    .where(
        _org.c.domains.is_not(None),
        func.lower(cast(_org.c.domains, Text)).like(bindparam("pattern"), "\\"),
    )
    .order_by(_org.c.id)
    .limit(1)
    .scalar_subquery()
)


@functools.cache
def _customer_insert(dialect: str, *, computed: bool) -> Insert:
    """INSERT of a user that skips a taken address (``computed``: its organization in SQL)."""
    user = User.__table__
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(user)
    if computed:
        statement = statement.values(organization_id=_CLAIMED_BY)
    return statement.on_conflict_do_nothing().returning(user.c.id, user.c.organization_id)


def create_organization(
    *, name: str, domains: Sequence[str] = (), shared_tickets: bool = False, notes: str = ""
) -> Organization:
    name = clean_text("name", name, max_length=200, required=True).strip()
    with transaction():
        if session.scalar(select(Organization).where(Organization.name == name)):
            raise Conflict(f"organization {name!r} exists", {"name": ["already in use"]})
        org = Organization(
            name=name,
            domains=[d.strip().lower() for d in domains if d.strip()],
            shared_tickets=shared_tickets,
            notes=notes,
        )
        session.add(org)
        session.flush()
    return org


def create_queue(
    *,
    key: str,
    name: str,
    description: str = "",
    custom_fields: list[dict[str, Any]] | None = None,
    members: Sequence[User] = (),
    routing: str | None = None,
    sla_policy: str | None = None,
    email: str | None = None,
) -> Queue:
    if not isinstance(key, str) or not QUEUE_KEY_RE.match(key):
        raise ValidationFailed("invalid queue key", {"key": ["lower-case letters, digits, - and _"]})
    with transaction():
        if session.scalar(select(Queue).where(Queue.key == key)):
            raise Conflict(f"queue {key!r} exists", {"key": ["already in use"]})
        queue = Queue(
            key=key,
            name=clean_text("name", name, max_length=200, required=True),
            description=description,
            custom_fields=cf.check_definitions(custom_fields or []),
            routing=routing,
            sla_policy=sla_policy,
            email=email,
        )
        queue.members = list(members)
        session.add(queue)
        session.flush()
    return queue


def update_queue(queue: Queue, **changes: Any) -> Queue:
    allowed = {"name", "description", "custom_fields", "members", "routing", "sla_policy", "email", "is_active"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed("unknown fields", {k: ["unknown field"] for k in unknown})
    with transaction():
        if "custom_fields" in changes:
            changes["custom_fields"] = cf.check_definitions(changes["custom_fields"])
        for name, value in changes.items():
            setattr(queue, name, value)
    return queue
