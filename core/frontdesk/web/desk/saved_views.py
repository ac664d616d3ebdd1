"""Saved views: the form to save the queue's filters under a name, editing and deleting them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from frontdesk.auth import access, current_actor
from frontdesk.db import session
from frontdesk.i18n import _
from frontdesk.models import SavedView
from frontdesk.services import PermissionDenied, ValidationFailed
from frontdesk.services import views as saved
from frontdesk.web.desk import bp
from frontdesk.web.desk.views import choices, field_errors, filters_from, form_state


def _view_or_404(view_id: int) -> SavedView:
    view = session.get(SavedView, view_id)
    user = current_actor()
    if view is None or (view.owner_id is not None and view.owner_id != user.id):
        abort(404)
    return view


def _render_view_form(
    view: SavedView | None, form: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    user = current_actor()
    return (
        render_template(
            "desk/saved_view_form.html", view=view, form=form, errors=errors, **choices(user)
        ),
        status,
    )


def _save(view: SavedView | None) -> ResponseReturnValue:
    user = current_actor()
    raw, sort = filters_from(request.form)
    name = request.form.get("name", "")
    shared = request.form.get("shared") == "1"
    form = {**form_state(raw, sort), "name": name, "shared": shared}
    try:
        if view is None:
            view = saved.create_saved_view(user, name=name, filters=raw, sort=sort, shared=shared)
            flash(_("View “%(name)s” saved.", name=view.name), "success")
        else:
            saved.update_saved_view(view, user, name=name, filters=raw, sort=sort, shared=shared)
            flash(_("View “%(name)s” changed.", name=view.name), "success")
    except PermissionDenied as exc:
        errors = {"form": exc.detail, **field_errors(exc)}
        return _render_view_form(view, form, errors, 403)
    except ValidationFailed as exc:
        return _render_view_form(view, form, field_errors(exc), 422)
    return redirect(url_for("desk.tickets", view=view.id), 303)


@bp.get("/views/new")
@access("staff")
def new_view() -> ResponseReturnValue:
    """The save-view form, filled in with the filters in the URL."""
    raw, sort = filters_from(request.args)
    form = {**form_state(raw, sort), "name": request.args.get("name", ""), "shared": False}
    return _render_view_form(None, form, {})


@bp.post("/views")
@access("staff")
def create_view() -> ResponseReturnValue:
    return _save(None)


@bp.route("/views/<int:view_id>/edit", methods=["GET", "POST"])
@access("staff")
def edit_view(view_id: int) -> ResponseReturnValue:
    view = _view_or_404(view_id)
    if not saved.can_manage_view(current_actor(), view):
        abort(403)
    if request.method == "POST":
        return _save(view)
    raw = dict(view.filters)
    form = {**form_state(raw, view.sort), "name": view.name, "shared": view.owner_id is None}
    return _render_view_form(view, form, {})


@bp.post("/views/<int:view_id>/delete")
@access("staff")
def delete_view(view_id: int) -> ResponseReturnValue:
    view = _view_or_404(view_id)
    name = view.name
    try:
        saved.delete_saved_view(view, current_actor())
    except PermissionDenied:
        abort(403)
    flash(_("View “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("desk.tickets"), 303)
