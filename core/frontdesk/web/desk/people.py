"""Customer and organization pages of the desk, with the tickets the agent may see."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select

from frontdesk.auth import access, current_actor
from frontdesk.db import session
from frontdesk.i18n import _
from frontdesk.models import Organization, User
from frontdesk.web.desk import bp
from frontdesk.web.desk.views import QueuePage, row_context, run_view

SEARCH_LIMIT = 50


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@bp.get("/customers")
@access("people.view")
def customers() -> ResponseReturnValue:
    """Find customers by name or email, and organizations by name."""
    q = request.args.get("q", "").strip()
    errors: dict[str, str] = {}
    people: list[User] = []
    organizations: list[Organization] = []
    if len(q) > 200:
        errors["q"] = _("At most %(n)d characters.", n=200)
    elif q:
        like = _like(q)
        people = list(
            session.scalars(
                select(User)
                .where(
                    User.role == "customer",
                    or_(
                        func.lower(User.email).like(like, escape="\\"),
                        func.lower(User.name).like(like, escape="\\"),
                    ),
                )
                .order_by(User.name, User.id)
                .limit(SEARCH_LIMIT)
            )
        )
        organizations = list(
            session.scalars(
                select(Organization)
                .where(func.lower(Organization.name).like(like, escape="\\"))
                .order_by(Organization.name)
                .limit(SEARCH_LIMIT)
            )
        )
    page = render_template(
        "desk/people_search.html",
        q=q,
        errors=errors,
        people=people,
        organizations=organizations,
        limit=SEARCH_LIMIT,
    )
    return page, 400 if errors else 200


@bp.get("/customers/<int:user_id>")
@access("people.view")
def customer(user_id: int) -> ResponseReturnValue:
    """A customer's facts and the tickets they asked for that the agent may see."""
    person = session.get(User, user_id)
    if person is None:
        abort(404)
    page = run_view(
        current_actor(), {"customer": str(person.id)}, "-updated_at", request.args.get("cursor")
    )
    return render_template(
        "desk/customer.html", person=person, page=page, **_paging(page), **row_context()
    )


@bp.get("/organizations/<int:org_id>")
@access("people.view")
def organization(org_id: int) -> ResponseReturnValue:
    """An organization's facts, its people and the tickets of it the agent may see."""
    org = session.get(Organization, org_id)
    if org is None:
        abort(404)
    members = list(
        session.scalars(
            select(User)
            .where(User.organization_id == org.id)
            .order_by(User.name, User.id)
            .limit(SEARCH_LIMIT + 1)
        )
    )
    page = run_view(
        current_actor(), {}, "-updated_at", request.args.get("cursor"), {"organization": org.id}
    )
    return render_template(
        "desk/organization.html",
        org=org,
        members=members[:SEARCH_LIMIT],
        more_members=len(members) > SEARCH_LIMIT,
        page=page,
        **_paging(page),
        **row_context(),
    )


def _paging(page: QueuePage) -> dict[str, str | None]:
    endpoint = request.endpoint or "desk.tickets"
    view_args = dict(request.view_args or {})
    cursor = page.next_cursor
    return {
        "next_url": url_for(endpoint, **view_args, cursor=cursor) if cursor else None,
        "first_url": url_for(endpoint, **view_args) if request.args.get("cursor") else None,
    }
