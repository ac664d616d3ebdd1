"""Sign-in and sign-out pages for everyone with a password (agents, admins, customers)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from frontdesk.auth import access, current_actor, session_epoch
from frontdesk.i18n import _, ngettext
from frontdesk.models import User
from frontdesk.ratelimit import RateLimited, check_rate_limit, limit_from_config
from frontdesk.services.people import authenticate
from frontdesk.web.security import rotate_csrf_token, safe_next_url

bp = Blueprint("auth", __name__)

SIGNIN_PER_IP = (30, 300)
SIGNIN_PER_EMAIL = (10, 300)


def start_session(user: User) -> None:
    """Sign ``user`` in on this browser: a fresh session, nothing from before survives."""
    session.clear()
    session["user_id"] = user.id
    session["auth_epoch"] = session_epoch(user)
    session.permanent = True
    request.frontdesk_actor = user  # type: ignore[attr-defined]


def end_session() -> None:
    session.clear()
    rotate_csrf_token()
    request.frontdesk_actor = None  # type: ignore[attr-defined]


def home_for(user: User) -> str:
    return url_for("desk.tickets") if user.is_staff else url_for("portal.home")


def check_signin_limits(email: str) -> None:
    """Slow down password guessing per address and per account (raises ``RateLimited``)."""
    per_ip = limit_from_config("RATELIMIT_SIGNIN_PER_IP", SIGNIN_PER_IP)
    check_rate_limit("signin-ip", request.remote_addr or "-", *per_ip)
    check_rate_limit(
        "signin-email", email, *limit_from_config("RATELIMIT_SIGNIN_PER_EMAIL", SIGNIN_PER_EMAIL)
    )


@bp.route("/signin", methods=["GET", "POST"])
@access("public")
def signin() -> ResponseReturnValue:
    """Email and password form; on success goes to ``next`` (a path on this site) or home."""
    next_url = request.values.get("next", "")
    actor = current_actor()
    if request.method == "GET" and actor is not None:
        return redirect(safe_next_url(next_url, home_for(actor)))
    form: dict[str, Any] = {"email": request.form.get("email", "").strip()}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            check_signin_limits(form["email"].lower())
        except RateLimited as exc:
            errors["form"] = ngettext(
                "Too many attempts. Try again in %(num)d second.",
                "Too many attempts. Try again in %(num)d seconds.",
                exc.retry_after or 60,
            )
            status = 429
        else:
            user = authenticate(form["email"], request.form.get("password", ""))
            if user is not None:
                start_session(user)
                return redirect(safe_next_url(next_url, home_for(user)))
            errors["form"] = _("Wrong email or password.")
            status = 401
    return render_template("auth/signin.html", form=form, errors=errors, next=next_url), status


@bp.post("/signout")
@access("public")
def signout() -> ResponseReturnValue:
    end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.signin"))
