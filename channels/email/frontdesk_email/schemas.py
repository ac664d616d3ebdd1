"""Marshmallow schemas of the email plugin: its configuration and the inbound-record API."""

from __future__ import annotations

import functools
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from frontdesk.db import session
from frontdesk.models import Ticket
from frontdesk.plugins import plugin_config

from .config import EmailConfig

MiB = 1024 * 1024


class InboundConfig(ma.Schema):
    """Settings of inbound mail: limits, noise protection and threading fallbacks."""

    MAX_MESSAGE_BYTES = fields.Integer(
        load_default=40 * MiB,
        validate=validate.Range(min=1024),
        metadata={"description": "Larger raw messages are rejected (and kept for an admin)"},
    )
    MAX_MIME_PARTS = fields.Integer(load_default=500, validate=validate.Range(min=1))
    MAX_MIME_DEPTH = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    RATE_LIMIT_COUNT = fields.Integer(
        load_default=30,
        validate=validate.Range(min=0),
        metadata={"description": "Messages one sender may send per window (0: no limit)"},
    )
    RATE_LIMIT_WINDOW_SECONDS = fields.Integer(
        load_default=3600, validate=validate.Range(min=1, max=7 * 86400)
    )
    DROP_LIST_MAIL = fields.Boolean(
        load_default=True,
        metadata={"description": "Drop mailing-list mail (List-Id or List-Unsubscribe headers)"},
    )
    OWN_ADDRESSES = fields.List(
        fields.Email(),
        load_default=list,
        metadata={"description": "Our addresses besides the mailboxes' (mail from them loops)"},
    )
    THREAD_BY_SUBJECT_DAYS = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=365),
        metadata={"description": "Thread by same sender and subject within N days (0: off)"},
    )


class EmailPluginConfig(EmailConfig, InboundConfig):
    """``PLUGINS_CONFIG["email"]``: every setting of the email plugin."""


def inbound_settings() -> dict[str, Any]:
    """The inbound settings of the running app (defaults where the configuration is silent)."""
    try:
        config = plugin_config("email")
    except LookupError:
        config = {}
    defaults = _defaults()
    return {key: config.get(key, default) for key, default in defaults.items()}


@functools.cache
def _defaults() -> dict[str, Any]:
    return InboundConfig().load({})


class InboundRecordSchema(ma.Schema):
    """One inbound message as an admin sees it: where it came from and what became of it."""

    id = fields.Integer()
    mailbox = fields.Function(lambda r: r.mailbox.key if r.mailbox else None)
    source = fields.String()
    uidvalidity = fields.Integer(allow_none=True)
    imap_uid = fields.Integer(allow_none=True)
    message_id = fields.String(allow_none=True)
    sender = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    raw_sha256 = fields.String(allow_none=True)
    raw_size = fields.Integer()
    outcome = fields.String()
    reason = fields.String()
    flags = fields.Dict()
    ticket_id = fields.Integer(allow_none=True)
    ticket_number = fields.Method("get_ticket_number")
    ticket_message_id = fields.Integer(allow_none=True)
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)

    def get_ticket_number(self, record: Any) -> str | None:
        ticket = session.get(Ticket, record.ticket_id) if record.ticket_id else None
        return ticket.number if ticket is not None else None


OUTCOME_CHOICES = ("created", "appended", "duplicate", "dropped", "rejected", "pending")


class InboundFilterSchema(ma.Schema):
    """Query parameters of the outcome list (unknown parameters are refused)."""

    outcome = fields.String(validate=validate.OneOf(OUTCOME_CHOICES))
    mailbox = fields.String(validate=validate.Length(max=64))
    sender = fields.String(validate=validate.Length(max=320))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    before = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Cursor: records with id < this"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
