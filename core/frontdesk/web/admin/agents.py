"""Admin pages for staff accounts: list, create, edit (role, language, teams), deactivate."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from frontdesk.auth import access, current_actor
from frontdesk.db import session
from frontdesk.i18n import _, _l
from frontdesk.models import Queue, User
from frontdesk.services import create_user, update_user
from frontdesk.services.errors import ServiceError
from frontdesk.web.admin import bp
from frontdesk.web.admin.forms import flag, form_values, ids, service_errors
from frontdesk.web.context import LANGUAGE_NAMES

STAFF_ROLES = (("agent", _l("Agent")), ("admin", _l("Administrator")))


def get_staff(user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_staff:
        abort(404)
    return user


def language_options() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


def _render(user: User | None, form: dict[str, Any], errors: dict[str, str], status: int = 200):
    queues = session.scalars(select(Queue).order_by(Queue.is_active.desc(), Queue.key)).all()
    context = {
        "user": user,
        "form": form,
        "errors": errors,
        "queues": queues,
        "roles": STAFF_ROLES,
        "language_options": language_options(),
    }
    return render_template("admin/agent_form.html", **context), status


def _posted() -> tuple[dict[str, Any], dict[str, str]]:
    form = form_values("email", "name", "role", "language", queues=ids("queues"))
    errors = {}
    if form["role"] not in dict(STAFF_ROLES):
        errors["role"] = _("Choose one of the listed options.")
    if form["language"] and form["language"] not in dict(language_options()):
        errors["language"] = _("Choose one of the listed options.")
    if not form["email"]:
        errors["email"] = _("This field is required.")
    return form, errors


def _queues(form: dict[str, Any]) -> list[Queue]:
    wanted = form["queues"]
    return list(session.scalars(select(Queue).where(Queue.id.in_(wanted)))) if wanted else []


@bp.get("/agents")
@access("admin")
def agents() -> ResponseReturnValue:
    """Agents and admins, active ones first, with their teams."""
    stmt = (
        select(User)
        .where(User.role.in_(("agent", "admin")))
        .order_by(User.is_active.desc(), func.lower(User.name), User.id)
    )
    return render_template("admin/agents.html", agents=session.scalars(stmt).all())


@bp.route("/agents/new", methods=["GET", "POST"])
@access("admin")
def new_agent() -> ResponseReturnValue:
    if request.method == "GET":
        return _render(None, {"role": "agent", "queues": []}, {})
    form, errors = _posted()
    password = request.form.get("password") or None
    if errors:
        return _render(None, form, errors, 422)
    try:
        user = create_user(
            email=form["email"],
            name=form["name"],
            role=form["role"],
            language=form["language"] or None,
            password=password,
            queues=_queues(form),
        )
    except ServiceError as exc:
        return _render(None, form, service_errors(exc), 422)
    flash(_("%(name)s can now work in the desk.", name=user.name or user.email), "success")
    return redirect(url_for("admin.agents"))


@bp.route("/agents/<int:user_id>", methods=["GET", "POST"])
@access("admin")
def edit_agent(user_id: int) -> ResponseReturnValue:
    user = get_staff(user_id)
    if request.method == "GET":
        form = {
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "language": user.language or "",
            "queues": [q.id for q in user.queues],
        }
        return _render(user, form, {})
    form, errors = _posted()
    if user.id == current_actor().id and form["role"] != "admin":
        errors["role"] = _("You cannot take away your own administrator role.")
    if errors:
        return _render(user, form, errors, 422)
    try:
        update_user(
            user,
            email=form["email"],
            name=form["name"],
            role=form["role"],
            language=form["language"] or None,
            queues=_queues(form),
        )
    except ServiceError as exc:
        return _render(user, form, service_errors(exc), 422)
    flash(_("%(name)s saved.", name=user.name or user.email), "success")
    return redirect(url_for("admin.agents"))


@bp.post("/agents/<int:user_id>/active")
@access("admin")
def set_agent_active(user_id: int) -> ResponseReturnValue:
    """Deactivate (they can no longer sign in; their tickets stay) or reactivate an account."""
    user = get_staff(user_id)
    active = flag("active")
    if user.id == current_actor().id and not active:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.agents"))
    update_user(user, is_active=active)
    name = user.name or user.email
    if active:
        flash(_("%(name)s can sign in again.", name=name), "success")
    else:
        flash(_("%(name)s is deactivated and can no longer sign in.", name=name), "success")
    return redirect(url_for("admin.agents"))
