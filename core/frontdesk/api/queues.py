"""Queues (teams): customers see the active ones to file tickets; admins change them."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from frontdesk.api.blueprint import ApiBlueprint, actor
from frontdesk.api.errors import ApiError
from frontdesk.api.lookups import user_by_id
from frontdesk.api.people_schemas import QueueCreateSchema, QueueSchema, QueueUpdateSchema
from frontdesk.auth import access
from frontdesk.db import session
from frontdesk.models import Queue, User
from frontdesk.pluginmanager import get_registry
from frontdesk.services import create_queue, update_queue

blp = ApiBlueprint("queues", __name__, url_prefix="/api/v1/queues", description="Queues and teams")


def _queue(key: str) -> Queue:
    queue = session.scalar(select(Queue).where(Queue.key == key))
    if queue is None or (not actor().is_staff and not queue.is_active):
        raise ApiError(404, f"no queue {key!r}", kind="not-found")
    return queue


def _members(ids: list[int]) -> list[User]:
    members = []
    for index, user_id in enumerate(ids):
        user = user_by_id(user_id, f"member_ids.{index}")
        if user is None or not user.is_staff:
            raise ApiError(
                422,
                f"user {user_id} is not an agent",
                {f"member_ids.{index}": ["not an agent"]},
                kind="invalid-input",
            )
        members.append(user)
    return members


def _check_providers(data: dict[str, Any]) -> None:
    providers = get_registry().providers
    for field, kind in (("routing", "routing"), ("sla_policy", "sla")):
        key = data.get(field)
        if key is not None and key not in providers.get(kind, {}):
            known = ", ".join(sorted(providers.get(kind, {}))) or "none"
            raise ApiError(
                422,
                f"no {kind} provider {key!r}",
                {field: [f"one of: {known}"]},
                kind="invalid-input",
            )


def _changes(data: dict[str, Any]) -> dict[str, Any]:
    _check_providers(data)
    if "member_ids" in data:
        data["members"] = _members(data.pop("member_ids"))
    return data


@blp.route("", methods=["GET"])
@access("authenticated")
@blp.response(200, QueueSchema(many=True))
def list_queues() -> Any:
    """Queues; customers see the active ones with their public custom fields."""
    stmt = select(Queue).order_by(Queue.id)
    if not actor().is_staff:
        stmt = stmt.where(Queue.is_active.is_(True))
    return list(session.scalars(stmt))


@blp.route("", methods=["POST"])
@access("admin.manage")
@blp.arguments(QueueCreateSchema)
@blp.response(201, QueueSchema)
def create(data: dict[str, Any]) -> Any:
    """Add a queue with its team and custom field definitions."""
    queue = create_queue(**_changes(data))
    return queue, 201, {"Location": url_for("queues.get_queue", key=queue.key)}


@blp.route("/<key>", methods=["GET"])
@access("authenticated")
@blp.response(200, QueueSchema)
def get_queue(key: str) -> Any:
    """One queue."""
    return _queue(key)


@blp.route("/<key>", methods=["PATCH"])
@access("admin.manage")
@blp.arguments(QueueUpdateSchema)
@blp.response(200, QueueSchema)
def patch_queue(data: dict[str, Any], key: str) -> Queue:
    """Change a queue: name, team, custom fields, routing, SLA policy, active flag."""
    return update_queue(_queue(key), **_changes(data))
