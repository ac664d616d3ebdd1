"""Portal accounts: sign-up, sign-in (password or emailed link), sign-out.

Sign-up never tells whether an address already has an account: every sign-up answers "check
your email". A new address gets a passwordless account and a link that confirms it (the chosen
password takes effect only then); an address we already know gets a sign-in link instead.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from frontdesk.auth import access, current_actor
from frontdesk.db import transaction, utcnow
from frontdesk.i18n import _, ngettext
from frontdesk.models import User
from frontdesk.pluginmanager import hook
from frontdesk.ratelimit import RateLimited, check_rate_limit, limit_from_config
from frontdesk.services.errors import Conflict, ValidationFailed
from frontdesk.services.people import (
    authenticate,
    create_user,
    find_user_by_email,
    hash_password,
    normalize_email,
)
from frontdesk.services.signin_links import (
    issue_signin_link,
    link_minutes,
    peek_signin_link,
    redeem_signin_link,
)
from frontdesk.web.context import current_language
from frontdesk.web.portal import bp
from frontdesk.web.portal.views import PREFIX
from frontdesk.web.security import safe_next_url
from frontdesk.web.signin import check_signin_limits, end_session, start_session

LINK_PER_IP = (20, 3600)
LINK_PER_EMAIL = (5, 3600)
LINK_SIGNIN_KEY = "portal_link_signin_at"


class NotDelivered(Exception):
    """No plugin could deliver a notice: what the notice was for is undone."""


def check_link_limits(email: str) -> None:
    """Slow down mail sent on a visitor's request, per address and per account (429)."""
    check_rate_limit(
        "signin-link-ip",
        request.remote_addr or "-",
        *limit_from_config("RATELIMIT_SIGNIN_LINK_PER_IP", LINK_PER_IP),
    )
    check_rate_limit(
        "signin-link-email",
        email.lower(),
        *limit_from_config("RATELIMIT_SIGNIN_LINK_PER_EMAIL", LINK_PER_EMAIL),
    )


def too_many(exc: RateLimited) -> str:
    return ngettext(
        "Too many attempts. Try again in %(num)d second.",
        "Too many attempts. Try again in %(num)d seconds.",
        exc.retry_after or 60,
    )


def deliver_notice(user: User, kind: str, subject: str, text: str, url: str | None) -> bool:
    """Hand a notice to the plugins (the email channel mails it); whether one took it."""
    sent = hook().deliver_notice(recipient=user, kind=kind, subject=subject, text=text, url=url)
    return bool(sent)


def _user_language(user: User, fallback: str) -> str:
    return user.language if user.language in current_app.config["LANGUAGES"] else fallback


def send_signin_link(user: User, *, password_hash: str | None = None, lang: str) -> None:
    """Mail ``user`` a new sign-in link in their language (inside the caller's transaction).

    Raises :class:`NotDelivered` when no plugin can deliver it, so the caller's transaction and
    the link with it roll back.
    """
    token = issue_signin_link(user, password_hash=password_hash)
    lang = _user_language(user, lang)
    url = url_for("portal.signin_link", locale=lang, token=token, _external=True)
    with force_locale(lang):
        variables = {"name": user.name or user.email, "minutes": link_minutes()}
        if password_hash is not None:
            subject = _("Confirm your help center account")
            text = _(
                "Hello %(name)s,\n\nopen the link below to confirm your address and finish "
                "creating your account. The link works once and expires in %(minutes)d "
                "minutes.\n\nIf you did not sign up, ignore this message: no account is made "
                "usable without it.",
                **variables,
            )
        else:
            subject = _("Your sign-in link for the help center")
            text = _(
                "Hello %(name)s,\n\nopen the link below to sign in to the help center. It works "
                "once and expires in %(minutes)d minutes. Once signed in, you can set a password "
                "in your profile.\n\nIf you did not ask for this link, ignore this message.",
                **variables,
            )
    if not deliver_notice(user, "signin_link", subject, text, url):
        raise NotDelivered()


def _staff_notice(user: User, lang: str) -> None:
    """Tell staff who signed up in the portal where they sign in (no link: staff use passwords)."""
    lang = _user_language(user, lang)
    url = url_for("auth.signin", _external=True)
    with force_locale(lang):
        subject = _("You already have an account")
        text = _(
            "Hello %(name)s,\n\nsomeone tried to create a help center account with this "
            "address, which already belongs to a staff account. Sign in with your password on "
            "the page below. If it was not you, ignore this message.",
            name=user.name or user.email,
        )
    if not deliver_notice(user, "account_exists", subject, text, url):
        raise NotDelivered()


def _language_choice(value: str) -> str:
    return value if value in current_app.config["LANGUAGES"] else current_language()


@bp.route(PREFIX + "/signin", methods=["GET", "POST"])
@access("public")
def signin(locale: str) -> ResponseReturnValue:
    """Email and password; on success to ``next`` (a path on this site) or the request list."""
    next_url = request.values.get("next", "")
    if request.method == "GET" and current_actor() is not None:
        return redirect(safe_next_url(next_url, url_for("portal.requests")))
    form: dict[str, Any] = {"email": request.form.get("email", "").strip()}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            check_signin_limits(form["email"].lower())
        except RateLimited as exc:
            errors["form"] = too_many(exc)
            status = 429
        else:
            user = authenticate(form["email"], request.form.get("password", ""))
            if user is not None:
                start_session(user)
                return redirect(safe_next_url(next_url, url_for("portal.requests")))
            errors["form"] = _("Wrong email or password.")
            status = 401
    return render_template("portal/signin.html", form=form, errors=errors, next=next_url), status


def _check_signup(form: dict[str, str], password: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not form["name"].strip():
        errors["name"] = _("Please enter your name.")
    elif len(form["name"]) > 200 or "\x00" in form["name"]:
        errors["name"] = _("The name can have at most %(count)d characters.", count=200)
    try:
        form["email"] = normalize_email(form["email"])
    except ValidationFailed:
        errors["email"] = _("Please enter a valid email address.")
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        errors["password"] = _("The password needs at least %(count)d characters.", count=minimum)
    elif len(password) > 1024 or "\x00" in password:
        errors["password"] = _("Please choose another password.")
    return errors


@bp.route(PREFIX + "/signup", methods=["GET", "POST"])
@access("public")
def signup(locale: str) -> ResponseReturnValue:
    """Name, email, password and language; the answer is "check your email" for every address."""
    form = {
        "name": request.form.get("name", ""),
        "email": request.form.get("email", "").strip(),
        "language": _language_choice(request.form.get("language", "")),
    }
    if request.method == "GET":
        return render_template("portal/signup.html", form=form, errors={})
    password = request.form.get("password", "")
    errors = _check_signup(form, password)
    status = 422 if errors else 200
    if not errors:
        try:
            check_link_limits(form["email"])
        except RateLimited as exc:
            errors["form"], status = too_many(exc), 429
    if not errors:
        # Hashed for every address, so a known one answers as slowly as a new one.
        pending_hash = hash_password(password)
        try:
            _sign_up(form, pending_hash)
        except Conflict:
            pass  # the address was taken a moment ago: answered like any known address
        except NotDelivered:
            errors["form"] = _("We could not send you an email just now. Please try again later.")
            status = 503
    if errors:
        return render_template("portal/signup.html", form=form, errors=errors), status
    return render_template("portal/link_sent.html", email=form["email"], minutes=link_minutes())


def _sign_up(form: dict[str, str], pending_hash: str) -> None:
    lang = form["language"]
    with transaction():
        user = find_user_by_email(form["email"])
        if user is None:
            user = create_user(
                email=form["email"], name=form["name"].strip(), role="customer", language=lang
            )
            send_signin_link(user, password_hash=pending_hash, lang=lang)
        elif user.is_staff and user.is_active:
            _staff_notice(user, lang)
        elif user.is_active:
            send_signin_link(user, lang=lang)
        # A deactivated account gets nothing, and the visitor the same answer as everyone.


@bp.route(PREFIX + "/signin/link", methods=["GET", "POST"])
@access("public")
def request_link(locale: str) -> ResponseReturnValue:
    """Ask for a sign-in link by email (no password needed); same answer for every address."""
    form = {"email": request.form.get("email", "").strip()}
    if request.method == "GET":
        return render_template("portal/link_request.html", form=form, errors={})
    errors: dict[str, str] = {}
    status = 200
    try:
        form["email"] = normalize_email(form["email"])
    except ValidationFailed:
        errors["email"], status = _("Please enter a valid email address."), 422
    if not errors:
        try:
            check_link_limits(form["email"])
        except RateLimited as exc:
            errors["form"], status = too_many(exc), 429
    if not errors:
        try:
            with transaction():
                user = find_user_by_email(form["email"])
                if user is not None and user.is_active and user.role == "customer":
                    send_signin_link(user, lang=current_language())
        except NotDelivered:
            errors["form"] = _("We could not send you an email just now. Please try again later.")
            status = 503
    if errors:
        return render_template("portal/link_request.html", form=form, errors=errors), status
    return render_template("portal/link_sent.html", email=form["email"], minutes=link_minutes())


@bp.route(PREFIX + "/signin/link/<token>", methods=["GET", "POST"])
@access("public")
def signin_link(locale: str, token: str) -> ResponseReturnValue:
    """The page an emailed link opens: a button signs in (mail scanners that fetch links only
    GET, so they cannot use up the link)."""
    if request.method == "GET":
        pending = peek_signin_link(token)
        if pending is None:
            return render_template("portal/link_invalid.html"), 410
        return render_template("portal/link_confirm.html", pending=pending, token=token)
    used = redeem_signin_link(token)
    if used is None:
        return render_template("portal/link_invalid.html"), 410
    start_session(used.user)
    session[LINK_SIGNIN_KEY] = utcnow().timestamp()
    lang = _user_language(used.user, current_language())
    with force_locale(lang):
        if used.confirms_signup:
            flash(_("Your account is ready. Welcome!"), "success")
        else:
            flash(_("You are signed in."), "success")
    return redirect(url_for("portal.requests", locale=lang))


def signed_in_by_link_recently() -> bool:
    """Whether this session began with an emailed link within the link lifetime."""
    started = session.get(LINK_SIGNIN_KEY)
    if not isinstance(started, (int, float)):
        return False
    return utcnow().timestamp() - started < link_minutes() * 60


@bp.post(PREFIX + "/signout")
@access("public")
def signout(locale: str) -> ResponseReturnValue:
    end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("portal.home"))
