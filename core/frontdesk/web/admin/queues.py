"""Admin pages for queues and their teams: list, create, edit."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from frontdesk.auth import access
from frontdesk.db import session
from frontdesk.i18n import _
from frontdesk.models import Queue, User, queue_member
from frontdesk.pluginmanager import get_registry
from frontdesk.services import create_queue, update_queue
from frontdesk.services.errors import ServiceError
from frontdesk.services.people import normalize_email
from frontdesk.web.admin import bp
from frontdesk.web.admin.forms import flag, form_values, ids, service_errors

FIELDS = ("key", "name", "description", "email", "routing", "sla_policy")


def get_queue(key: str) -> Queue:
    queue = session.scalar(select(Queue).where(Queue.key == key))
    if queue is None:
        abort(404)
    return queue


def staff_users() -> list[User]:
    """Agents and admins, active ones first: the people a queue's team can hold."""
    stmt = (
        select(User)
        .where(User.role.in_(("agent", "admin")))
        .order_by(User.is_active.desc(), func.lower(User.name), User.id)
    )
    return list(session.scalars(stmt))


def provider_options(kind: str) -> list[tuple[str, str]]:
    """``(key, label)`` of the registered providers of ``kind`` (routing, sla)."""
    providers = get_registry().providers.get(kind, {})
    return [(key, str(getattr(p, "label", key))) for key, p in sorted(providers.items())]


def _render(queue: Queue | None, form: dict[str, Any], errors: dict[str, str], status: int = 200):
    context = {
        "queue": queue,
        "form": form,
        "errors": errors,
        "staff": staff_users(),
        "routing_options": provider_options("routing"),
        "sla_options": provider_options("sla"),
    }
    return render_template("admin/queue_form.html", **context), status


def _posted() -> tuple[dict[str, Any], dict[str, Any]]:
    """What the form sent: the values to re-render, and the changes for the service."""
    form = form_values(*FIELDS, members=ids("members"), is_active=flag("is_active"))
    members = []
    if form["members"]:
        wanted = set(form["members"])
        members = [u for u in staff_users() if u.id in wanted]
    changes = {
        "name": form["name"],
        "description": form["description"],
        "email": form["email"] or None,
        "routing": form["routing"] or None,
        "sla_policy": form["sla_policy"] or None,
        "members": members,
    }
    return form, changes


def _check_choices(form: dict[str, Any]) -> dict[str, str]:
    errors = {}
    if not form["name"]:
        errors["name"] = _("This field is required.")
    elif len(form["name"]) > 200:
        errors["name"] = _("At most %(n)d characters.", n=200)
    if form["email"]:
        try:
            normalize_email(form["email"])
        except ServiceError:
            errors["email"] = _("This is not a valid email address.")
    for name, kind in (("routing", "routing"), ("sla_policy", "sla")):
        if form[name] and form[name] not in dict(provider_options(kind)):
            errors[name] = _("Choose one of the listed options.")
    return errors


@bp.get("/queues")
@access("admin")
def queues() -> ResponseReturnValue:
    """Every queue with its team size and field count."""
    counts = dict(
        session.execute(
            select(queue_member.c.queue_id, func.count()).group_by(queue_member.c.queue_id)
        ).all()
    )
    rows = session.scalars(select(Queue).order_by(Queue.is_active.desc(), Queue.key)).all()
    return render_template("admin/queues.html", queues=rows, member_counts=counts)


@bp.route("/queues/new", methods=["GET", "POST"])
@access("admin")
def new_queue() -> ResponseReturnValue:
    if request.method == "GET":
        return _render(None, {"members": [], "is_active": True}, {})
    form, changes = _posted()
    errors = _check_choices(form)
    if not form["key"]:
        errors["key"] = _("This field is required.")
    if errors:
        return _render(None, form, errors, 422)
    try:
        queue = create_queue(key=form["key"], **changes)
    except ServiceError as exc:
        return _render(None, form, service_errors(exc), 422)
    flash(_("Queue %(name)s created.", name=queue.name), "success")
    return redirect(url_for("admin.queues"))


@bp.route("/queues/<key>", methods=["GET", "POST"])
@access("admin")
def edit_queue(key: str) -> ResponseReturnValue:
    queue = get_queue(key)
    if request.method == "GET":
        form = {name: getattr(queue, name) or "" for name in FIELDS}
        form.update(members=[u.id for u in queue.members], is_active=queue.is_active)
        return _render(queue, form, {})
    form, changes = _posted()
    form["key"] = queue.key  # the key names the queue everywhere: it never changes
    errors = _check_choices(form)
    if errors:
        return _render(queue, form, errors, 422)
    try:
        update_queue(queue, is_active=form["is_active"], **changes)
    except ServiceError as exc:
        return _render(queue, form, service_errors(exc), 422)
    flash(_("Queue %(name)s saved.", name=queue.name), "success")
    return redirect(url_for("admin.queues"))
