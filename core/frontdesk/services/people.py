"""Users, organizations, queues and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from frontdesk.db import session, transaction, utcnow
from frontdesk.models import ROLES, ApiToken, Organization, Queue, User
from frontdesk.services import custom_fields as cf
from frontdesk.services.errors import Conflict, ValidationFailed
from frontdesk.services.validation import clean_text

EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
QUEUE_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TOKEN_PREFIX = "fdt_"


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


def find_user_by_email(email: str) -> User | None:
    email = normalize_email(email)
    return session.scalar(select(User).where(func.lower(User.email) == email.lower()))


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
    with transaction():
        if find_user_by_email(email) is not None:
            raise Conflict(f"a user with email {email} already exists", {"email": ["already in use"]})
        user = User(
            email=email,
            name=clean_text("name", name, max_length=200),
            role=role,
            language=language,
            timezone=timezone,
            organization=organization or organization_for_email(email),
            vip=vip,
            plugin_data={},
        )
        if password is not None:
            user.password_hash = hash_password(check_password_strength(password))
        user.queues = list(queues)
        session.add(user)
        session.flush()
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


def organization_for_email(email: str) -> Organization | None:
    """The organization that claims the email's domain, if any."""
    domain = email.rpartition("@")[2].lower()
    for org in session.scalars(select(Organization).where(Organization.domains != None)):  # noqa: E711
        if domain in [d.lower() for d in org.domains or []]:
            return org
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
    user = find_user_by_email(email)
    if user is not None:
        return user
    return create_user(email=email, name=name, role="customer", language=language)


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


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to make the stored value useless.
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``: returns the row and the plain token (shown once, never stored)."""
    name = clean_text("name", name, max_length=200, required=True)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction():
        row = ApiToken(
            user=user,
            name=name,
            prefix=plain[: len(TOKEN_PREFIX) + 6],
            token_hash=_token_hash(plain),
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
    return row, plain


def revoke_api_token(token: ApiToken) -> None:
    with transaction():
        if token.revoked_at is None:
            token.revoked_at = utcnow()


def user_for_token(plain: str) -> User | None:
    """The active user a valid (unrevoked, unexpired) token belongs to."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    row = session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == _token_hash(plain))
    )
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if not row.user.is_active:
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        with transaction():
            row.last_used_at = now  # at most once a minute: no write on every request
    return row.user
