"""Ticket, message and history schemas (what goes in and what comes out)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import marshmallow as ma

from frontdesk.api.fields import (
    MEDIA_TYPE_RE,
    Language,
    StrictInteger,
    Text,
    UtcDateTime,
    full_match,
)
from frontdesk.auth import current_actor
from frontdesk.channels.base import IncomingAttachment
from frontdesk.models import PRIORITIES

fields = ma.fields


def is_staff_viewer() -> bool:
    user = current_actor()
    return bool(user and user.is_staff)


# --- references --------------------------------------------------------------------------------


class QueueRefSchema(ma.Schema):
    id = fields.Integer()
    key = fields.String()
    name = fields.String()


class UserRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()

    @ma.post_dump
    def _hide_staff_emails(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        # Customers see who works on their ticket, not the agents' addresses.
        if data.get("role") != "customer" and not is_staff_viewer():
            data.pop("email", None)
        return data


# --- tickets -----------------------------------------------------------------------------------


class TicketSchema(ma.Schema):
    id = fields.Integer()
    number = fields.String()
    subject = fields.String()
    status = fields.String()
    status_category = fields.String()
    priority = fields.String()
    queue = fields.Nested(QueueRefSchema, allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    customer = fields.Nested(UserRefSchema, allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    channel = fields.String()
    language = fields.String(allow_none=True)
    tags = fields.List(fields.String(), attribute="tag_names")
    custom_fields = fields.Dict(keys=fields.String())
    watcher_ids = fields.Pluck(UserRefSchema, "id", many=True, attribute="watchers")
    plugin_data = fields.Dict(keys=fields.String(), metadata={"description": "Staff only"})
    merged_into = fields.Method(
        "_merged_into", allow_none=True, metadata={"type": "string", "nullable": True}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    first_response_at = fields.DateTime(allow_none=True)
    solved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    pending_until = fields.DateTime(allow_none=True)
    version = fields.Integer()

    def _merged_into(self, ticket: Any) -> str | None:
        if ticket.merged_into_id is None:
            return None
        from frontdesk.api.lookups import ticket_numbers

        return ticket_numbers([ticket.merged_into_id]).get(ticket.merged_into_id)

    @ma.post_dump(pass_original=True)
    def _customer_view(self, data: dict[str, Any], ticket: Any, **_kw: Any) -> dict[str, Any]:
        if is_staff_viewer():
            return data
        data.pop("plugin_data", None)
        data.pop("watcher_ids", None)
        public = {
            d["key"]
            for d in (ticket.queue.custom_fields if ticket.queue else [])
            if d.get("public", True)
        }
        data["custom_fields"] = {k: v for k, v in data["custom_fields"].items() if k in public}
        return data


class CustomerInSchema(ma.Schema):
    email = Text(required=True)
    name = Text(load_default="")


class AttachmentInSchema(ma.Schema):
    filename = Text(required=True)
    media_type = Text(
        load_default="application/octet-stream",
        validate=full_match(MEDIA_TYPE_RE, "not a media type such as text/plain"),
    )
    content_base64 = Text(required=True, metadata={"description": "The file, base64-encoded"})

    @ma.post_load
    def _decode(self, data: dict[str, Any], **_kw: Any) -> IncomingAttachment:
        try:
            content = base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError("not valid base64", "content_base64") from None
        return IncomingAttachment(
            filename=data["filename"], media_type=data["media_type"], data=content
        )


class TicketCreateSchema(ma.Schema):
    subject = Text(required=True)
    body_text = Text()
    body_html = Text()
    customer = fields.Nested(CustomerInSchema)
    customer_id = StrictInteger()
    queue = Text(allow_none=True, metadata={"description": "Queue key"})
    priority = Text(validate=ma.validate.OneOf(PRIORITIES))
    status = Text()
    tags = fields.List(Text())
    custom_fields = fields.Dict(keys=fields.String())
    assignee_id = StrictInteger(allow_none=True)
    language = Language(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentInSchema))

    @ma.validates_schema
    def _one_customer(self, data: dict[str, Any], **_kw: Any) -> None:
        if "customer" in data and "customer_id" in data:
            raise ma.ValidationError("give customer or customer_id, not both", "customer_id")

    def load(self, data: Any, **kwargs: Any) -> Any:
        """The loaded body; its common shape is checked by hand (see ``plain_ticket_create``)."""
        plain = None if kwargs else plain_ticket_create(data)
        return plain if plain is not None else super().load(data, **kwargs)


# The fields ``plain_ticket_create`` takes; these four are plain text.
_PLAIN_TEXT = frozenset({"subject", "body_text", "body_html", "status"})
_PLAIN_KEYS = _PLAIN_TEXT | {"customer", "customer_id", "queue", "priority"}


def plain_ticket_create(data: Any) -> dict[str, Any] | None:
    """What ``TicketCreateSchema`` loads from ``data`` when the body is of the common, valid
    shape (text fields, a customer or customer id, a queue key, a priority), else ``None``.

    Opening tickets is the busiest write; marshmallow spends more on this shape than the checks
    take. Anything else (other fields, a wrong type, a missing subject) returns ``None`` and
    goes through the schema, so every error is the schema's own.
    """
    if not isinstance(data, dict) or "subject" not in data or not _PLAIN_KEYS.issuperset(data):
        return None
    loaded: dict[str, Any] = {}
    for key, value in data.items():
        if key in _PLAIN_TEXT:
            if not isinstance(value, str):
                return None
        elif key == "queue":
            if value is not None and not isinstance(value, str):
                return None
        elif key == "priority":
            if value not in PRIORITIES:
                return None
        elif key == "customer_id":
            if type(value) is not int or "customer" in data:
                return None
        else:
            value = _plain_customer(value)
            if value is None:
                return None
        loaded[key] = value
    return loaded


def _plain_customer(value: Any) -> dict[str, str] | None:
    """``CustomerInSchema``'s load of ``value`` when it is valid, else ``None``."""
    if not isinstance(value, dict) or not isinstance(value.get("email"), str):
        return None
    name = value.get("name", "")
    if not isinstance(name, str) or len(value) != (2 if "name" in value else 1):
        return None
    return {"email": value["email"], "name": name}


class TicketUpdateSchema(ma.Schema):
    subject = Text()
    priority = Text(validate=ma.validate.OneOf(PRIORITIES))
    status = Text()
    queue = Text(allow_none=True, metadata={"description": "Queue key; null for none"})
    assignee_id = StrictInteger(allow_none=True)
    customer_id = StrictInteger()
    tags = fields.List(Text(), metadata={"description": "Replaces the ticket's tags"})
    custom_fields = fields.Dict(
        keys=fields.String(), metadata={"description": "Merged into the values; null removes"}
    )
    pending_until = UtcDateTime(allow_none=True)
    language = Language(allow_none=True)


class MergeSchema(ma.Schema):
    into = Text(required=True, metadata={"description": "Number of the ticket to merge into"})


class SplitSchema(ma.Schema):
    message_ids = fields.List(StrictInteger(), required=True)
    subject = Text()


class LinkInSchema(ma.Schema):
    target = Text(required=True, metadata={"description": "Number of the linked ticket"})
    kind = Text(load_default="related")


class LinkSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    source = fields.Method("_source", metadata={"type": "string"})
    target = fields.Method("_target", metadata={"type": "string"})
    created_at = fields.DateTime()

    def _source(self, link: Any) -> str | None:
        from frontdesk.api.lookups import ticket_numbers

        return ticket_numbers([link.source_id]).get(link.source_id)

    def _target(self, link: Any) -> str | None:
        from frontdesk.api.lookups import ticket_numbers

        return ticket_numbers([link.target_id]).get(link.target_id)


class WatcherInSchema(ma.Schema):
    user_id = StrictInteger(required=True)


# --- messages and history ----------------------------------------------------------------------


class AttachmentSchema(ma.Schema):
    id = fields.Integer()
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    url = fields.Function(lambda a: f"/api/v1/attachments/{a.id}", metadata={"type": "string"})


class MessageSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    channel = fields.String()
    author = fields.Nested(UserRefSchema, allow_none=True)
    body_text = fields.String()
    body_html = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))
    external_id = fields.String(allow_none=True, metadata={"description": "Staff only"})
    meta = fields.Dict(keys=fields.String(), metadata={"description": "Staff only"})
    created_at = fields.DateTime()

    @ma.post_dump
    def _customer_view(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        if not is_staff_viewer():
            data.pop("external_id", None)
            data.pop("meta", None)
        return data


class MessageInSchema(ma.Schema):
    kind = Text(
        load_default="reply",
        validate=ma.validate.OneOf(("reply", "note")),
        metadata={"description": "reply: public message; note: internal (staff only)"},
    )
    body_text = Text()
    body_html = Text()
    attachments = fields.List(fields.Nested(AttachmentInSchema))


class EventSchema(ma.Schema):
    id = fields.Integer()
    action = fields.String()
    field = fields.String(allow_none=True)
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)
    source = fields.String()
    actor = fields.Nested(UserRefSchema, allow_none=True)
    created_at = fields.DateTime()
