"""API tokens: issued once, stored only as a hash, revocable, acting as their user."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update

from frontdesk.db import session, transaction, utcnow
from frontdesk.models import ApiToken, User
from frontdesk.services.rows import loaded
from frontdesk.services.validation import clean_text

TOKEN_PREFIX = "fdt_"


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


# Built once: a statement reused as is skips SQLAlchemy's per-call cache-key work. Revoked and
# expired tokens are left out by the query itself, so it reads the user's row and nothing else.
_users, _tokens = User.__table__, ApiToken.__table__
_TOKEN_USER = (
    select(_users)
    .join(_tokens, _tokens.c.user_id == _users.c.id)
    .where(
        _tokens.c.token_hash == bindparam("token_hash"),
        _tokens.c.revoked_at.is_(None),
        or_(_tokens.c.expires_at.is_(None), _tokens.c.expires_at > bindparam("now")),
    )
)
_TOUCH = (
    update(ApiToken)
    .where(
        ApiToken.token_hash == bindparam("hash"),
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < bindparam("stale")),
    )
    .values(last_used_at=bindparam("used"))
)
TOUCH_EVERY = 60.0  # seconds between two updates of a token's last_used_at
# token hash -> when this process last updated the token's last_used_at (monotonic clock)
_touched: dict[str, float] = {}


def user_for_token(plain: str) -> User | None:
    """The active user a valid (unrevoked, unexpired) token belongs to."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token_hash = _token_hash(plain)
    now = utcnow()
    params = {"token_hash": token_hash, "now": now}
    row = session.connection().execute(_TOKEN_USER, params).mappings().first()
    if row is None or not row["is_active"]:
        return None
    user = loaded(User, row)
    _touch(token_hash, now)
    return user


def _touch(token_hash: str, now: datetime) -> None:
    """Record that the token was used, at most once a minute: no write on every request.

    Each process remembers when it last wrote, and the UPDATE itself skips a row another
    process updated within the minute.
    """
    clock = time.monotonic()
    last = _touched.get(token_hash)
    if last is not None and clock - last < TOUCH_EVERY:
        return
    if len(_touched) > 10_000:  # forget old tokens rather than grow without bound
        _touched.clear()
    _touched[token_hash] = clock
    stale = now - timedelta(seconds=TOUCH_EVERY)
    with transaction():
        session.connection().execute(_TOUCH, {"hash": token_hash, "used": now, "stale": stale})
