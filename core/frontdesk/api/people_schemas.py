"""Schemas of people, organizations, queues, API tokens and sign-in."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from frontdesk.api.fields import (
    Language,
    StrictBoolean,
    StrictInteger,
    Text,
    Timezone,
    UtcDateTime,
)
from frontdesk.api.schemas import QueueRefSchema, is_staff_viewer
from frontdesk.services.custom_fields import FIELD_TYPES

fields = ma.fields


class UserSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    language = fields.String(allow_none=True)
    timezone = fields.String()
    organization_id = fields.Integer(allow_none=True)
    vip = fields.Boolean()
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class AgentSchema(UserSchema):
    queues = fields.List(fields.Nested(QueueRefSchema))


class _UserFields(ma.Schema):
    name = Text()
    language = Language(allow_none=True)
    timezone = Timezone()


class CustomerCreateSchema(_UserFields):
    email = Text(required=True)
    password = Text(validate=ma.validate.Length(max=1024))
    organization_id = StrictInteger(allow_none=True)
    vip = StrictBoolean()


class CustomerUpdateSchema(_UserFields):
    email = Text()
    password = Text(validate=ma.validate.Length(max=1024))
    organization_id = StrictInteger(allow_none=True)
    vip = StrictBoolean()
    is_active = StrictBoolean()


class AgentCreateSchema(_UserFields):
    email = Text(required=True)
    role = Text(load_default="agent", validate=ma.validate.OneOf(("agent", "admin")))
    password = Text(validate=ma.validate.Length(max=1024))
    queues = fields.List(Text(), metadata={"description": "Queue keys of the agent's teams"})


class AgentUpdateSchema(_UserFields):
    email = Text()
    role = Text(validate=ma.validate.OneOf(("agent", "admin")))
    password = Text(validate=ma.validate.Length(max=1024))
    queues = fields.List(Text())
    is_active = StrictBoolean()


class PeopleListArgsSchema(ma.Schema):
    limit = fields.Integer()
    cursor = fields.String()
    q = fields.String(metadata={"description": "Text in the name or email"})
    organization = fields.Integer()


class OrganizationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    domains = fields.List(fields.String())
    shared_tickets = fields.Boolean()
    notes = fields.String()
    created_at = fields.DateTime()


class OrganizationCreateSchema(ma.Schema):
    name = Text(required=True)
    domains = fields.List(Text())
    shared_tickets = StrictBoolean()
    notes = Text()


class OrganizationUpdateSchema(ma.Schema):
    name = Text()
    domains = fields.List(Text())
    shared_tickets = StrictBoolean()
    notes = Text()


class CustomFieldDefinitionSchema(ma.Schema):
    key = Text(required=True)
    label = Text()
    type = Text(load_default="text", validate=ma.validate.OneOf(FIELD_TYPES))
    required = StrictBoolean()
    choices = fields.List(Text())
    public = StrictBoolean(metadata={"description": "Shown to customers (default true)"})


class QueueSchema(ma.Schema):
    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    description = fields.String()
    email = fields.String(allow_none=True)
    custom_fields = fields.List(fields.Nested(CustomFieldDefinitionSchema))
    routing = fields.String(allow_none=True)
    sla_policy = fields.String(allow_none=True)
    is_active = fields.Boolean()
    member_ids = fields.Pluck(UserSchema, "id", many=True, attribute="members")

    @ma.post_dump
    def _customer_view(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        # Customers pick a queue when filing a ticket: they see its name and public fields only.
        if is_staff_viewer():
            return data
        shown = {k: v for k, v in data.items() if k in ("id", "key", "name", "description")}
        shown["custom_fields"] = [d for d in data.get("custom_fields", []) if d.get("public", True)]
        return shown


class QueueCreateSchema(ma.Schema):
    key = Text(required=True)
    name = Text(required=True)
    description = Text()
    email = Text(allow_none=True)
    custom_fields = fields.List(fields.Nested(CustomFieldDefinitionSchema))
    routing = Text(allow_none=True)
    sla_policy = Text(allow_none=True)
    member_ids = fields.List(StrictInteger())


class QueueUpdateSchema(ma.Schema):
    name = Text()
    description = Text()
    email = Text(allow_none=True)
    custom_fields = fields.List(fields.Nested(CustomFieldDefinitionSchema))
    routing = Text(allow_none=True)
    sla_policy = Text(allow_none=True)
    member_ids = fields.List(StrictInteger())
    is_active = StrictBoolean()


class TokenSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "First characters, to recognise the token"})
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    token = fields.String(metadata={"description": "The secret; shown only in this answer"})


class TokenInSchema(ma.Schema):
    name = Text(required=True)
    expires_at = UtcDateTime(allow_none=True)


class MeUpdateSchema(_UserFields):
    password = Text(validate=ma.validate.Length(max=1024))
    current_password = Text(
        validate=ma.validate.Length(max=1024),
        metadata={"description": "Required to set a new password"},
    )


class SignInSchema(ma.Schema):
    email = Text(required=True)
    password = Text(required=True, validate=ma.validate.Length(max=1024))
