"""The customer portal's routing and start: locale URLs, ``/portal`` redirects, the request list.

Every page lives under ``/<locale>/portal`` with a locale from ``LANGUAGES`` (any other is a 404);
``/portal`` and ``/portal/<path>`` redirect to the customer's preferred language, then the
browser's. Links built without a locale take the current page's, so the portal's navigation
entries (``portal.home``, ``portal.requests``) need no arguments.

Customers see only the tickets :func:`portal_tickets_clause` allows: their own, the ones they
watch, and their organization's when it shares tickets. Staff visiting the portal see the
tickets they asked for as a customer would, never their team's.
"""

from __future__ import annotations

import math
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload
from werkzeug.routing import BaseConverter, BuildError, ValidationError

from frontdesk.auth import access, current_actor
from frontdesk.db import session
from frontdesk.i18n import _l
from frontdesk.models import Ticket, User
from frontdesk.plugins import registered_statuses
from frontdesk.services.access import visibility_clause, visibility_of
from frontdesk.web.context import LANGUAGE_NAMES, current_language
from frontdesk.web.portal import bp
from frontdesk.web.security import safe_next_url

PER_PAGE = 20
OPEN_CATEGORIES = ("new", "open", "pending")
DONE_CATEGORIES = ("solved", "closed")
STATE_TABS = (
    ("", _l("All")),
    ("open", _l("Open")),
    ("done", _l("Solved and closed")),
)


class LocaleConverter(BaseConverter):
    """A URL segment naming one of the configured ``LANGUAGES``; any other segment is no match."""

    regex = r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?"

    def to_python(self, value: str) -> str:
        if value not in current_app.config["LANGUAGES"]:
            raise ValidationError()
        return value


# Before any route of the blueprint is added: the rules need the converter to compile.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("lang", LocaleConverter))

PREFIX = "/<lang:locale>/portal"


@bp.url_defaults
def _current_locale(endpoint: str, values: dict[str, Any]) -> None:
    if "locale" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "locale"):
        values["locale"] = current_language()


@bp.context_processor
def _portal_context() -> dict[str, Any]:
    codes = current_app.config["LANGUAGES"]
    return {"language_options": [(code, LANGUAGE_NAMES.get(code, code)) for code in codes]}


@bp.errorhandler(401)
def _sign_in_first(error: Any) -> ResponseReturnValue:
    """An anonymous visitor of a customer page goes to the portal's sign-in, and comes back."""
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("portal.signin", next=target) if target else url_for("portal.signin"))


def portal_tickets_clause(actor: User) -> Any:
    """Which tickets ``actor`` sees in the portal: those a customer in their place would see."""
    kind, user_id, org_id = visibility_of(actor)
    if kind not in ("own", "own_and_org"):
        kind, org_id = "own", None  # staff: only what they asked for themselves
    return visibility_clause(kind, user_id, org_id)


def shares_organization(actor: User) -> bool:
    org = actor.organization
    return bool(actor.role == "customer" and org is not None and org.shared_tickets)


def status_view(ticket: Ticket) -> dict[str, str]:
    """The label and category a customer sees for ``ticket``'s status."""
    status = registered_statuses().get(ticket.status)
    label = str(status.label) if status else ticket.status
    return {"label": label, "category": ticket.status_category}


def new_request_url(locale: str | None = None) -> str | None:
    """The web-form channel's "new request" page, or ``None`` when that plugin is not enabled."""
    try:
        return url_for("webform.new", locale=locale or current_language())
    except BuildError:
        return None


@bp.route("/portal", defaults={"rest": ""})
@bp.route("/portal/", defaults={"rest": ""}, endpoint="to_locale_slash")
@bp.route("/portal/<path:rest>")
@access("public")
def to_locale(rest: str) -> ResponseReturnValue:
    """``/portal/...`` without a language: to the same page in the customer's language."""
    target = f"/{current_language()}/portal/{rest}"
    if request.query_string:
        target += "?" + request.query_string.decode("utf-8", "replace")
    return redirect(safe_next_url(target, url_for("portal.home")))


@bp.get(PREFIX + "/")
@access("public")
def home(locale: str) -> ResponseReturnValue:
    """Welcome and the ways in for visitors; the most recent requests for a signed-in customer."""
    actor = current_actor()
    recent: list[Ticket] = []
    if actor is not None:
        recent = list(
            session.scalars(
                _list_statement(actor)
                .where(Ticket.status_category.in_(OPEN_CATEGORIES))
                .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                .limit(5)
            )
        )
    return render_template(
        "portal/home.html",
        recent=recent,
        status_view=status_view,
        new_request_url=new_request_url(),
    )


def _list_statement(actor: User) -> Any:
    return (
        select(Ticket)
        .where(portal_tickets_clause(actor))
        .options(
            lazyload(Ticket.tags),
            lazyload(Ticket.watchers),
            lazyload(Ticket.queue),
            lazyload(Ticket.assignee),
        )
    )


@bp.get(PREFIX + "/requests")
@access("authenticated")
def requests(locale: str) -> ResponseReturnValue:
    """The customer's requests, newest activity first, filtered by state (and scope), paged."""
    actor = current_actor()
    state = request.args.get("state", "")
    if state not in {key for key, _label in STATE_TABS}:
        state = ""
    shared = shares_organization(actor)
    scope = request.args.get("scope", "") if shared else ""
    if scope not in ("", "mine", "organization"):
        scope = ""
    stmt = _list_statement(actor)
    if state == "open":
        stmt = stmt.where(Ticket.status_category.in_(OPEN_CATEGORIES))
    elif state == "done":
        stmt = stmt.where(Ticket.status_category.in_(DONE_CATEGORIES))
    if scope == "mine":
        stmt = stmt.where(Ticket.customer_id == actor.id)
    elif scope == "organization":
        stmt = stmt.where(Ticket.organization_id == actor.organization_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() else 1
    if page_number < 1 or page_number > pages:
        if page_number > pages and total:
            abort(404)
        page_number = 1
    tickets = session.scalars(
        stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(PER_PAGE)
        .offset((page_number - 1) * PER_PAGE)
    ).all()
    return render_template(
        "portal/requests.html",
        tickets=tickets,
        total=total,
        page=page_number,
        pages=pages,
        state=state,
        scope=scope,
        shared=shared,
        state_tabs=STATE_TABS,
        status_view=status_view,
        new_request_url=new_request_url(),
    )
