"""Schemas of the interchange records: strict types, unknown fields refused, defaults filled in.

Loading a record gives plain Python values (timestamps as aware datetimes); the exporter writes
exactly these fields, so a dump of this version always loads.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from frontdesk.models import LINK_KINDS, MESSAGE_KINDS, PRIORITIES, ROLES
from frontdesk.transfer.format import FORMAT_NAME, RecordError, flatten_errors


class StrictBoolean(fields.Field):
    """``true`` or ``false`` only: ``"yes"`` or ``1`` in a dump is a mistake, not a boolean."""

    default_error_messages = {"invalid": "Not a boolean (true or false)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _text(max_length: int | None = None, **kwargs: Any) -> fields.String:
    if max_length and "validate" not in kwargs:
        kwargs["validate"] = validate.Length(max=max_length)
    return fields.String(**kwargs)


def _optional_text(max_length: int | None = None) -> fields.String:
    return _text(max_length, load_default=None, allow_none=True)


def _time(required: bool = False) -> fields.AwareDateTime:
    if required:
        return fields.AwareDateTime(required=True)
    return fields.AwareDateTime(load_default=None, allow_none=True)


def _json_object() -> fields.Dict:
    return fields.Dict(keys=fields.String(), load_default=dict)


def _string_list(max_length: int | None = None) -> fields.List:
    return fields.List(_text(max_length), load_default=list)


class _Record(Schema):
    class Meta:
        unknown = RAISE


class HeaderRecord(_Record):
    format = fields.String(required=True, validate=validate.Equal(FORMAT_NAME))
    version = fields.Integer(required=True, strict=True)
    exported_at = _time()
    since = _time()
    generator = _optional_text(200)


class OrganizationRecord(_Record):
    name = _text(200, required=True, validate=validate.Length(min=1, max=200))
    domains = _string_list(253)
    shared_tickets = StrictBoolean(load_default=False)
    notes = _text(load_default="")
    created_at = _time()


class UserRecord(_Record):
    email = _text(320, required=True)
    name = _text(200, load_default="")
    role = fields.String(load_default="customer", validate=validate.OneOf(ROLES))
    organization = _optional_text(200)
    language = _optional_text(16)
    timezone = _text(64, load_default="UTC")
    is_active = StrictBoolean(load_default=True)
    vip = StrictBoolean(load_default=False)
    plugin_data = _json_object()
    created_at = _time()


class QueueRecord(_Record):
    key = _text(64, required=True)
    name = _text(200, required=True)
    description = _text(load_default="")
    email = _optional_text(320)
    custom_fields = fields.List(fields.Dict(keys=fields.String()), load_default=list)
    routing = _optional_text(64)
    sla_policy = _optional_text(64)
    is_active = StrictBoolean(load_default=True)
    members = _string_list(320)
    created_at = _time()


class AttachmentRecord(_Record):
    filename = _text(1000, required=True)
    media_type = _text(255, load_default="application/octet-stream")
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    content_id = _optional_text(255)
    created_at = _time()
    content = fields.String(required=True)


class MessageRecord(_Record):
    kind = fields.String(required=True, validate=validate.OneOf(MESSAGE_KINDS))
    channel = _text(64, load_default="api", validate=validate.Length(min=1, max=64))
    author = _optional_text(320)
    body_text = fields.String(load_default="")
    body_html = fields.String(load_default=None, allow_none=True)
    external_id = _optional_text(998)
    meta = _json_object()
    created_at = _time(required=True)
    attachments = fields.List(fields.Nested(AttachmentRecord), load_default=list)


class EventRecord(_Record):
    created_at = _time(required=True)
    actor = _optional_text(320)
    action = _text(32, required=True, validate=validate.Length(min=1, max=32))
    field = _optional_text(64)
    old = fields.Raw(load_default=None, allow_none=True)
    new = fields.Raw(load_default=None, allow_none=True)
    source = _text(64, load_default="import")


class LinkRecord(_Record):
    kind = fields.String(required=True, validate=validate.OneOf(LINK_KINDS))
    ticket = _text(32, required=True)


class TicketRecord(_Record):
    number = _text(32, required=True, validate=validate.Length(min=1, max=32))
    subject = fields.String(required=True)
    status = _text(64, required=True)
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    queue = _optional_text(64)
    customer = _optional_text(320)
    assignee = _optional_text(320)
    organization = _optional_text(200)
    channel = _text(64, load_default="api", validate=validate.Length(min=1, max=64))
    language = _optional_text(16)
    created_at = _time(required=True)
    updated_at = _time(required=True)
    first_response_at = _time()
    solved_at = _time()
    closed_at = _time()
    pending_until = _time()
    merged_into = _optional_text(32)
    tags = _string_list()
    watchers = _string_list(320)
    links = fields.List(fields.Nested(LinkRecord), load_default=list)
    custom_fields = _json_object()
    plugin_data = _json_object()
    messages = fields.List(fields.Nested(MessageRecord), load_default=list)
    events = fields.List(fields.Nested(EventRecord), load_default=list)


# One instance each: building a schema copies its fields, which would cost more than loading.
SCHEMAS: dict[str, Schema] = {
    "header": HeaderRecord(),
    "organization": OrganizationRecord(),
    "user": UserRecord(),
    "queue": QueueRecord(),
    "ticket": TicketRecord(),
}


def load_record(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check one decoded line: returns ``(type, fields)`` or raises :class:`RecordError`."""
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in SCHEMAS:
        raise RecordError(f"type: must be one of {', '.join(SCHEMAS)}, got {kind!r}")
    body = {k: v for k, v in data.items() if k != "type"}
    try:
        return kind, SCHEMAS[kind].load(body)
    except ValidationError as exc:
        raise RecordError("; ".join(flatten_errors(exc.messages))) from None
