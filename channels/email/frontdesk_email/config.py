"""The email plugin's settings (``PLUGINS_CONFIG["email"]``), validated at startup."""

from __future__ import annotations

import functools
from typing import Any

import marshmallow as ma

from frontdesk.plugins import plugin_config

STATUS_CATEGORIES = ("new", "open", "pending", "solved", "closed")


class EmailConfig(ma.Schema):
    """Settings of the email channel; every key has a default."""

    POLL_SECONDS = ma.fields.Integer(
        load_default=60,
        validate=ma.validate.Range(min=30, max=86400),
        metadata={"description": "How often each mailbox is polled over IMAP"},
    )
    POLL_BATCH = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=1000),
        metadata={"description": "Messages fetched before they are flagged and the UID saved"},
    )
    IMAP_TIMEOUT = ma.fields.Float(load_default=60.0, validate=ma.validate.Range(min=1, max=600))
    SMTP_TIMEOUT = ma.fields.Float(load_default=60.0, validate=ma.validate.Range(min=1, max=600))
    ACKNOWLEDGE = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Send an acknowledgement for each ticket opened by mail"},
    )
    ACKNOWLEDGE_PER_HOUR = ma.fields.Integer(
        load_default=5,
        validate=ma.validate.Range(min=0),
        metadata={"description": "At most this many acknowledgements per customer per hour"},
    )
    NOTIFY_STATUS_CATEGORIES = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(STATUS_CATEGORIES)),
        load_default=lambda: ["solved"],
        metadata={"description": "Tell the customer when an agent moves a ticket into these"},
    )
    REMINDER_AFTER_HOURS = ma.fields.Integer(
        load_default=72,
        validate=ma.validate.Range(min=0),
        metadata={
            "description": "Remind the customer of a pending ticket after this long (0: never)"
        },
    )
    DEFAULT_MAILBOX = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Key of the mailbox that sends for tickets from other channels"},
    )


def settings() -> dict[str, Any]:
    """The validated settings of the running app (defaults when the plugin is not enabled)."""
    try:
        return plugin_config("email")  # validated once at startup, defaults filled in
    except LookupError:
        return dict(_defaults())


@functools.cache
def _defaults() -> dict[str, Any]:
    return EmailConfig().load({})
