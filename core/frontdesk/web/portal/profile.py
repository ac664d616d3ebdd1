"""The customer's profile in the portal: name, language, time zone and password.

Changing the language moves to the same page in the new language. Setting a password needs the
current one, except right after signing in with an emailed link (that is how a forgotten
password is replaced, and how a customer known from email gets one).
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from frontdesk.auth import access, current_actor
from frontdesk.i18n import _
from frontdesk.models import User
from frontdesk.ratelimit import RateLimited
from frontdesk.services.errors import ValidationFailed
from frontdesk.services.people import authenticate, set_password, update_user
from frontdesk.web.portal import bp
from frontdesk.web.portal.account import signed_in_by_link_recently, too_many
from frontdesk.web.portal.views import PREFIX
from frontdesk.web.signin import check_signin_limits, start_session


@cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _needs_current_password(user: User) -> bool:
    return bool(user.password_hash) and not signed_in_by_link_recently()


def _render(user: User, form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    page = render_template(
        "portal/profile.html",
        form=form,
        errors=errors,
        timezones=timezone_names(),
        needs_current_password=_needs_current_password(user),
        has_password=bool(user.password_hash),
    )
    return page, status


@bp.route(PREFIX + "/profile", methods=["GET", "POST"])
@access("authenticated")
def profile(locale: str) -> ResponseReturnValue:
    """Show and change the profile; the hidden ``form`` field says which of the two forms."""
    user = current_actor()
    form: dict[str, Any] = {
        "name": user.name,
        "language": user.language or locale,
        "timezone": user.timezone or current_app.config["DEFAULT_TIMEZONE"],
    }
    if request.method == "GET":
        return _render(user, form, {})
    if request.form.get("form") == "password":
        return _change_password(user, form)
    form.update(
        name=request.form.get("name", ""),
        language=request.form.get("language", ""),
        timezone=request.form.get("timezone", ""),
    )
    errors: dict[str, str] = {}
    if not form["name"].strip():
        errors["name"] = _("Please enter your name.")
    elif len(form["name"]) > 200 or "\x00" in form["name"]:
        errors["name"] = _("The name can have at most %(count)d characters.", count=200)
    if form["language"] not in current_app.config["LANGUAGES"]:
        errors["language"] = _("Please choose one of the languages offered.")
    if form["timezone"] not in timezone_names():
        errors["timezone"] = _("Please choose one of the time zones offered.")
    if errors:
        return _render(user, form, errors, 422)
    update_user(
        user, name=form["name"].strip(), language=form["language"], timezone=form["timezone"]
    )
    with force_locale(form["language"]):
        flash(_("Your profile is saved."), "success")
    return redirect(url_for("portal.profile", locale=form["language"]))


def _change_password(user: User, form: dict[str, Any]) -> ResponseReturnValue:
    errors: dict[str, str] = {}
    new = request.form.get("new_password", "")
    if _needs_current_password(user):
        try:
            check_signin_limits(user.email.lower())
        except RateLimited as exc:
            return _render(user, form, {"password_form": too_many(exc)}, 429)
        if authenticate(user.email, request.form.get("current_password", "")) is None:
            errors["current_password"] = _("This is not your current password.")
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(new) < minimum:
        errors["new_password"] = _(
            "The password needs at least %(count)d characters.", count=minimum
        )
    if errors:
        return _render(user, form, errors, 422)
    try:
        set_password(user, new)
    except ValidationFailed:
        return _render(user, form, {"new_password": _("Please choose another password.")}, 422)
    # The new password ends every other session of the account; this one starts afresh.
    start_session(user)
    flash(_("Your password is changed."), "success")
    return redirect(url_for("portal.profile"))
