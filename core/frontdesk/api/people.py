"""Customers, agents and organizations."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import Select, func, or_, select

from frontdesk.api.blueprint import ApiBlueprint
from frontdesk.api.errors import ApiError
from frontdesk.api.lookups import queue_by_key
from frontdesk.api.pagination import id_keyset, page_of, paginate
from frontdesk.api.people_schemas import (
    AgentCreateSchema,
    AgentSchema,
    AgentUpdateSchema,
    CustomerCreateSchema,
    CustomerUpdateSchema,
    OrganizationCreateSchema,
    OrganizationSchema,
    OrganizationUpdateSchema,
    PeopleListArgsSchema,
    UserSchema,
)
from frontdesk.auth import access
from frontdesk.db import session, transaction
from frontdesk.models import Organization, User
from frontdesk.services import (
    create_organization,
    create_user,
    set_password,
    update_organization,
    update_user,
)

blp = ApiBlueprint(
    "people", __name__, url_prefix="/api/v1", description="Customers, agents, organizations"
)
STAFF_ROLES = ("agent", "admin")


def _organization(org_id: int | None, field: str = "organization_id") -> Organization | None:
    if org_id is None:
        return None
    org = session.get(Organization, org_id)
    if org is None:
        raise ApiError(
            422,
            f"no organization {org_id}",
            {field: ["no such organization"]},
            kind="invalid-input",
        )
    return org


def _people(roles: tuple[str, ...], args: dict[str, Any]) -> Select:
    stmt = select(User).where(User.role.in_(roles))
    if q := (args.get("q") or "").strip().lower():
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if (org := args.get("organization")) is not None:
        stmt = stmt.where(User.organization_id == org)
    return stmt


def _person(user_id: int, roles: tuple[str, ...], what: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.role not in roles:
        raise ApiError(404, f"no {what} {user_id}", kind="not-found")
    return user


def _save_user(user: User | None, data: dict[str, Any], create: dict[str, Any]) -> User:
    """Create (``user`` None) or change a user and set its password, in one transaction."""
    password = data.pop("password", None)
    if "organization_id" in data:
        data["organization"] = _organization(data.pop("organization_id"))
    if "queues" in data:
        data["queues"] = [queue_by_key(key, "queues") for key in data["queues"]]
    with transaction():
        if user is None:
            user = create_user(**create, **data, password=password)
        else:
            update_user(user, **data)
            if password is not None:
                set_password(user, password)
    return user


# --- customers ---------------------------------------------------------------------------------


@blp.route("/customers", methods=["GET"])
@access("people.view")
@blp.arguments(PeopleListArgsSchema, location="query")
@blp.response(200, page_of(UserSchema))
def list_customers(args: dict[str, Any]) -> dict[str, Any]:
    """Customers, oldest first; ``q`` searches names and emails."""
    return paginate(
        _people(("customer",), args), id_keyset(User), args.get("limit"), args.get("cursor")
    )


@blp.route("/customers", methods=["POST"])
@access("people.edit")
@blp.arguments(CustomerCreateSchema)
@blp.response(201, UserSchema)
def create_customer(data: dict[str, Any]) -> Any:
    """Add a customer."""
    user = _save_user(None, data, {"role": "customer"})
    return user, 201, {"Location": url_for("people.get_customer", user_id=user.id)}


@blp.route("/customers/<int:user_id>", methods=["GET"])
@access("people.view")
@blp.response(200, UserSchema)
def get_customer(user_id: int) -> User:
    """One customer."""
    return _person(user_id, ("customer",), "customer")


@blp.route("/customers/<int:user_id>", methods=["PATCH"])
@access("people.edit")
@blp.arguments(CustomerUpdateSchema)
@blp.response(200, UserSchema)
def patch_customer(data: dict[str, Any], user_id: int) -> User:
    """Change a customer."""
    return _save_user(_person(user_id, ("customer",), "customer"), data, {})


# --- agents ------------------------------------------------------------------------------------


@blp.route("/agents", methods=["GET"])
@access("staff")
@blp.arguments(PeopleListArgsSchema, location="query")
@blp.response(200, page_of(AgentSchema))
def list_agents(args: dict[str, Any]) -> dict[str, Any]:
    """Agents and admins, oldest first."""
    return paginate(
        _people(STAFF_ROLES, args), id_keyset(User), args.get("limit"), args.get("cursor")
    )


@blp.route("/agents", methods=["POST"])
@access("admin.manage")
@blp.arguments(AgentCreateSchema)
@blp.response(201, AgentSchema)
def create_agent(data: dict[str, Any]) -> Any:
    """Add an agent or admin."""
    user = _save_user(None, data, {})
    return user, 201, {"Location": url_for("people.get_agent", user_id=user.id)}


@blp.route("/agents/<int:user_id>", methods=["GET"])
@access("staff")
@blp.response(200, AgentSchema)
def get_agent(user_id: int) -> User:
    """One agent or admin."""
    return _person(user_id, STAFF_ROLES, "agent")


@blp.route("/agents/<int:user_id>", methods=["PATCH"])
@access("admin.manage")
@blp.arguments(AgentUpdateSchema)
@blp.response(200, AgentSchema)
def patch_agent(data: dict[str, Any], user_id: int) -> User:
    """Change an agent: profile, role, teams, or deactivate."""
    return _save_user(_person(user_id, STAFF_ROLES, "agent"), data, {})


# --- organizations -----------------------------------------------------------------------------


@blp.route("/organizations", methods=["GET"])
@access("people.view")
@blp.arguments(PeopleListArgsSchema, location="query")
@blp.response(200, page_of(OrganizationSchema))
def list_organizations(args: dict[str, Any]) -> dict[str, Any]:
    """Organizations, oldest first; ``q`` searches names."""
    stmt = select(Organization)
    if q := (args.get("q") or "").strip().lower():
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(Organization.name).like(f"%{escaped}%", escape="\\"))
    return paginate(stmt, id_keyset(Organization), args.get("limit"), args.get("cursor"))


@blp.route("/organizations", methods=["POST"])
@access("people.edit")
@blp.arguments(OrganizationCreateSchema)
@blp.response(201, OrganizationSchema)
def create_org(data: dict[str, Any]) -> Any:
    """Add an organization."""
    org = create_organization(**data)
    return org, 201, {"Location": url_for("people.get_organization", org_id=org.id)}


@blp.route("/organizations/<int:org_id>", methods=["GET"])
@access("people.view")
@blp.response(200, OrganizationSchema)
def get_organization(org_id: int) -> Organization:
    """One organization."""
    return _org(org_id)


def _org(org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise ApiError(404, f"no organization {org_id}", kind="not-found")
    return org


@blp.route("/organizations/<int:org_id>", methods=["PATCH"])
@access("people.edit")
@blp.arguments(OrganizationUpdateSchema)
@blp.response(200, OrganizationSchema)
def patch_organization(data: dict[str, Any], org_id: int) -> Organization:
    """Change an organization (name, email domains, ticket sharing, notes)."""
    return update_organization(_org(org_id), **data)
