"""Sign-in links for customers: emailed, single-use, expiring, stored only as a hash.

A link proves that whoever opens it reads the customer's mailbox. It signs a customer in who has
no password (people known from their emails), confirms a new account (the password chosen at
sign-up takes effect only then), and lets someone who forgot their password back in.

Configuration: ``PORTAL_SIGNIN_LINK_MINUTES`` (default 30) is how long a link stays valid.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from frontdesk.db import session, transaction, utcnow
from frontdesk.models import User
from frontdesk.models.signin import SigninLink
from frontdesk.services.rows import insert_now

DEFAULT_MINUTES = 30
# Used links and expired ones are kept this long (for support questions), then deleted.
KEEP_AFTER_EXPIRY = timedelta(days=1)
MAX_TOKEN_LENGTH = 128

_links = SigninLink.__table__


@dataclass(frozen=True)
class PendingLink:
    """A link that can still be used: whom it signs in, and whether it confirms a new account."""

    user: User
    confirms_signup: bool


def link_minutes() -> int:
    """How many minutes a new link stays valid (``PORTAL_SIGNIN_LINK_MINUTES``)."""
    value = current_app.config.get("PORTAL_SIGNIN_LINK_MINUTES", DEFAULT_MINUTES)
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"PORTAL_SIGNIN_LINK_MINUTES must be a number, got {value!r}") from None
    if minutes < 1:
        raise ValueError(f"PORTAL_SIGNIN_LINK_MINUTES must be at least 1, got {minutes}")
    return minutes


def _token_hash(token: str) -> str:
    # The token holds 256 random bits: a fast hash already makes the stored value useless.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_signin_link(user: User, *, password_hash: str | None = None) -> str:
    """A new link token for ``user``; returned once, only its hash is kept.

    ``password_hash`` (already hashed) becomes the user's password when the link is used.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        session.execute(delete(SigninLink).where(SigninLink.expires_at < now - KEEP_AFTER_EXPIRY))
        insert_now(
            SigninLink(
                user_id=user.id,
                token_hash=_token_hash(token),
                password_hash=password_hash,
                created_at=now,
                expires_at=now + timedelta(minutes=link_minutes()),
            )
        )
    return token


def _usable(token: str) -> SigninLink | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    link = session.scalar(select(SigninLink).where(SigninLink.token_hash == _token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = session.get(User, link.user_id)
    if user is None or not user.is_active or user.role != "customer":
        return None
    return link


def peek_signin_link(token: str) -> PendingLink | None:
    """What ``token`` would do if used now, without using it (``None``: wrong, used or expired)."""
    link = _usable(token)
    if link is None:
        return None
    return PendingLink(session.get(User, link.user_id), link.password_hash is not None)


def redeem_signin_link(token: str) -> PendingLink | None:
    """Use ``token`` once: the customer it signs in, or ``None`` when it is wrong, used or expired.

    Two requests racing with the same token cannot both win: the link is marked used by one
    conditional UPDATE, and only the request whose UPDATE changed the row goes on.
    """
    if _usable(token) is None:
        return None
    now = utcnow()
    with transaction():
        claimed = session.connection().execute(
            update(_links)
            .where(
                _links.c.token_hash == _token_hash(token),
                _links.c.used_at.is_(None),
                _links.c.expires_at > now,
            )
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            return None
        link = session.scalar(select(SigninLink).where(SigninLink.token_hash == _token_hash(token)))
        session.refresh(link)
        user = session.get(User, link.user_id)
        if user is None or not user.is_active or user.role != "customer":
            return None
        confirms = link.password_hash is not None
        if confirms and not user.password_hash:
            # Set only on an account without one: a password chosen by someone else must never
            # replace the one the owner of the address already has.
            user.password_hash = link.password_hash
        if confirms:
            # Every other unused link of the account is void: the account is confirmed now.
            session.connection().execute(
                update(_links)
                .where(_links.c.user_id == user.id, _links.c.used_at.is_(None))
                .values(used_at=now)
            )
    return PendingLink(user, confirms)
