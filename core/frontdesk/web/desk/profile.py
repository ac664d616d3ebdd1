"""The agent's own profile: name, language, time zone, password and API tokens."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from frontdesk.auth import access, current_actor, session_epoch
from frontdesk.db import session as db
from frontdesk.db import utcnow
from frontdesk.i18n import _
from frontdesk.models import ApiToken, User
from frontdesk.services import (
    ValidationFailed,
    authenticate,
    has_permission,
    create_api_token,
    revoke_api_token,
    set_password,
    update_user,
)
from frontdesk.services.people import check_password_strength
from frontdesk.web.desk import bp

MAX_NAME = 200


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(available_timezones())


def valid_time_zone(name: str) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _render(status: int = 200, **context: Any) -> ResponseReturnValue:
    user = current_actor()
    tokens = db.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    )
    context.setdefault(
        "details", {"name": user.name, "language": user.language or "", "timezone": user.timezone}
    )
    context.setdefault("errors", {})
    context.setdefault("token_name", "")
    return (
        render_template(
            "desk/profile.html",
            user=user,
            tokens=list(tokens),
            time_zones=time_zones(),
            now=utcnow(),
            can_tokens=has_permission(user, "tokens.manage"),
            **context,
        ),
        status,
    )


@bp.get("/profile")
@access("staff")
def profile() -> ResponseReturnValue:
    return _render()


@bp.post("/profile")
@access("staff")
def update_profile() -> ResponseReturnValue:
    """Save name, language and time zone; a wrong value re-shows the form with what was typed."""
    user = current_actor()
    details = {
        "name": request.form.get("name", "").strip(),
        "language": request.form.get("language", ""),
        "timezone": request.form.get("timezone", "").strip(),
    }
    errors: dict[str, str] = {}
    if len(details["name"]) > MAX_NAME or "\x00" in details["name"]:
        errors["name"] = _("At most %(n)d characters.", n=MAX_NAME)
    if details["language"] and details["language"] not in current_app.config["LANGUAGES"]:
        errors["language"] = _("Choose a language from the list.")
    if not valid_time_zone(details["timezone"]):
        errors["timezone"] = _("Choose a time zone from the list, such as Europe/Rome.")
    if errors:
        return _render(422, details=details, errors=errors)
    update_user(
        user,
        name=details["name"],
        language=details["language"] or None,
        timezone=details["timezone"],
    )
    flash(_("Your profile was saved."), "success")
    return redirect(url_for("desk.profile"), 303)


@bp.post("/profile/password")
@access("staff")
def change_password() -> ResponseReturnValue:
    """Change the password after checking the current one; this browser stays signed in."""
    user: User = current_actor()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    errors: dict[str, str] = {}
    if not current or authenticate(user.email, current) is None:
        errors["current_password"] = _("This is not your current password.")
    try:
        check_password_strength(new)
    except ValidationFailed:
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        errors["new_password"] = _("Use at least %(n)d characters.", n=minimum)
    if not errors.get("new_password") and new != request.form.get("confirm_password", ""):
        errors["confirm_password"] = _("The two new passwords differ.")
    if errors:
        return _render(422, errors=errors)
    set_password(user, new)
    # The epoch ends the user's other sessions; this one continues with the new value.
    session["auth_epoch"] = session_epoch(user)
    flash(_("Your password was changed."), "success")
    return redirect(url_for("desk.profile"), 303)


def _may_manage_tokens(user: User) -> None:
    # Customers hold this permission too; the desk's pages are for staff only (the route rule).
    if not has_permission(user, "tokens.manage"):
        abort(403)


@bp.post("/profile/tokens")
@access("staff")
def create_token() -> ResponseReturnValue:
    """Issue an API token and show it on this page only: it is never shown again."""
    user = current_actor()
    _may_manage_tokens(user)
    name = request.form.get("token_name", "").strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        error = _("Give the token a name of at most %(n)d characters.", n=MAX_NAME)
        return _render(422, errors={"token_name": error}, token_name=name)
    token, plain = create_api_token(user, name)
    return _render(201, new_token=plain, new_token_row=token)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@access("staff")
def revoke_token(token_id: int) -> ResponseReturnValue:
    user = current_actor()
    _may_manage_tokens(user)
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    revoke_api_token(token)
    flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for("desk.profile"), 303)
