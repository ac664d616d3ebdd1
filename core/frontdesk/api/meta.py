"""What the instance knows: statuses, tags with counts, loaded plugins."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import func, select

from frontdesk.api.blueprint import ApiBlueprint
from frontdesk.auth import access
from frontdesk.db import session
from frontdesk.models import Tag, ticket_tag
from frontdesk.pluginmanager import get_registry

blp = ApiBlueprint("meta", __name__, url_prefix="/api/v1", description="Statuses, tags, plugins")


class StatusSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.Function(lambda s: str(s.label), metadata={"type": "string"})
    category = ma.fields.String()
    order = ma.fields.Integer()


class TagSchema(ma.Schema):
    name = ma.fields.String()
    count = ma.fields.Integer(metadata={"description": "Tickets with this tag"})


class TagArgsSchema(ma.Schema):
    q = ma.fields.String(metadata={"description": "Tags starting with this text"})
    limit = ma.fields.Integer(validate=ma.validate.Range(1, 1000), load_default=200)


class PluginSchema(ma.Schema):
    name = ma.fields.String()
    label = ma.fields.String()
    version = ma.fields.String(allow_none=True)
    category = ma.fields.String()
    builtin = ma.fields.Boolean()
    distribution = ma.fields.String(allow_none=True)
    urls = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    hooks = ma.fields.List(ma.fields.String())


@blp.route("/statuses", methods=["GET"])
@access("authenticated")
@blp.response(200, StatusSchema(many=True))
def statuses() -> Any:
    """Ticket statuses with their category, in workflow order."""
    return sorted(get_registry().statuses.values(), key=lambda s: (s.order, s.key))


@blp.route("/tags", methods=["GET"])
@access("staff")
@blp.arguments(TagArgsSchema, location="query")
@blp.response(200, TagSchema(many=True))
def tags(args: dict[str, Any]) -> Any:
    """Tags in use, most used first, with how many tickets carry each."""
    count = func.count(ticket_tag.c.ticket_id)
    stmt = (
        select(Tag.name, count.label("count"))
        .outerjoin(ticket_tag, ticket_tag.c.tag_id == Tag.id)
        .group_by(Tag.id, Tag.name)
        .order_by(count.desc(), Tag.name)
        .limit(args["limit"])
    )
    if prefix := (args.get("q") or "").strip().lower():
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Tag.name.like(f"{escaped}%", escape="\\"))
    return [{"name": row.name, "count": row.count} for row in session.execute(stmt)]


@blp.route("/plugins", methods=["GET"])
@access("staff")
@blp.response(200, PluginSchema(many=True))
def plugins() -> Any:
    """Loaded plugins: name, version, category and the hooks each implements."""
    from frontdesk.cli.plugins import describe_plugins

    return describe_plugins(current_app._get_current_object())  # type: ignore[attr-defined]
