"""Signing in and out, the current user, and the current user's API tokens."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask import session as http_session
from sqlalchemy import select

from frontdesk.api.blueprint import ApiBlueprint, actor, has_bearer_token
from frontdesk.api.errors import ApiError
from frontdesk.api.people_schemas import (
    MeUpdateSchema,
    SignInSchema,
    TokenCreatedSchema,
    TokenInSchema,
    TokenSchema,
)
from frontdesk.api.schemas import QueueRefSchema
from frontdesk.auth import access
from frontdesk.db import session, transaction
from frontdesk.models import ApiToken, User
from frontdesk.pluginmanager import get_registry
from frontdesk.ratelimit import check_rate_limit, limit_from_config
from frontdesk.services import (
    authenticate,
    create_api_token,
    has_permission,
    revoke_api_token,
    set_password,
    update_user,
)

blp = ApiBlueprint("account", __name__, url_prefix="/api/v1", description="Sign-in and tokens")

SIGNIN_PER_IP = (30, 300)
SIGNIN_PER_EMAIL = (10, 300)


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    language = ma.fields.String(allow_none=True)
    timezone = ma.fields.String()
    organization_id = ma.fields.Integer(allow_none=True)
    queues = ma.fields.List(ma.fields.Nested(QueueRefSchema))
    permissions = ma.fields.Method(
        "_permissions", metadata={"type": "array", "items": {"type": "string"}}
    )

    def _permissions(self, user: User) -> list[str]:
        return sorted(p for p in get_registry().permissions if has_permission(user, p))


def _epoch(user: User) -> str:
    # The same value the built-in ``actor_from_request`` compares: it changes with the password.
    return (user.password_hash or "")[-16:]


@blp.route("/session", methods=["POST"])
@access("public")
@blp.doc(security=[])
@blp.arguments(SignInSchema)
@blp.response(200, MeSchema)
@blp.alt_response(401, description="Wrong email or password")
@blp.alt_response(429, description="Too many attempts; see Retry-After")
def sign_in(data: dict[str, Any]) -> User:
    """Sign in with email and password; sets the session cookie the web UI uses."""
    email = data["email"].strip().lower()
    check_rate_limit(
        "signin-ip",
        request.remote_addr or "-",
        *limit_from_config("RATELIMIT_SIGNIN_PER_IP", SIGNIN_PER_IP),
    )
    check_rate_limit(
        "signin-email", email, *limit_from_config("RATELIMIT_SIGNIN_PER_EMAIL", SIGNIN_PER_EMAIL)
    )
    user = authenticate(data["email"], data["password"])
    if user is None:
        raise ApiError(401, "wrong email or password", kind="invalid-credentials")
    # A fresh session on every sign-in: nothing set before it (by anyone) survives.
    http_session.clear()
    http_session["user_id"] = user.id
    http_session["auth_epoch"] = _epoch(user)
    request.frontdesk_actor = user  # type: ignore[attr-defined]
    return user


@blp.route("/session", methods=["DELETE"])
@access("public")
@blp.doc(security=[])
@blp.response(204)
def sign_out() -> None:
    """Sign out (ends the session cookie; API tokens are unaffected)."""
    http_session.clear()


@blp.route("/me", methods=["GET"])
@access("authenticated")
@blp.response(200, MeSchema)
def me() -> User:
    """Who you are signed in as, and what you may do."""
    return actor()


@blp.route("/me", methods=["PATCH"])
@access("authenticated")
@blp.arguments(MeUpdateSchema)
@blp.response(200, MeSchema)
def update_me(data: dict[str, Any]) -> User:
    """Change your name, language, time zone or password (give the current one)."""
    user = actor()
    password = data.pop("password", None)
    current = data.pop("current_password", None)
    if password is not None and (current is None or authenticate(user.email, current) is None):
        raise ApiError(
            422,
            "give your current password to set a new one",
            {"current_password": ["wrong or missing"]},
            kind="invalid-input",
        )
    with transaction():
        update_user(user, **data)
        if password is not None:
            set_password(user, password)
    if password is not None and not has_bearer_token():
        # The new password ends the user's other sessions; this one carries on.
        http_session["auth_epoch"] = _epoch(user)
    return user


@blp.route("/tokens", methods=["GET"])
@access("tokens.manage")
@blp.response(200, TokenSchema(many=True))
def list_tokens() -> list[ApiToken]:
    """Your API tokens (the secret itself is never shown again)."""
    stmt = select(ApiToken).where(ApiToken.user_id == actor().id).order_by(ApiToken.id)
    return list(session.scalars(stmt))


@blp.route("/tokens", methods=["POST"])
@access("tokens.manage")
@blp.arguments(TokenInSchema)
@blp.response(201, TokenCreatedSchema)
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """Create an API token for yourself; the answer holds the token, shown only this once."""
    row, plain = create_api_token(actor(), data["name"], expires_at=data.get("expires_at"))
    return {**{name: getattr(row, name) for name in TokenSchema().fields}, "token": plain}


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@access("tokens.manage")
@blp.response(204)
def revoke_token(token_id: int) -> None:
    """Revoke one of your tokens; it stops working at once."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != actor().id:
        raise ApiError(404, f"you have no token {token_id}", kind="not-found")
    revoke_api_token(row)
