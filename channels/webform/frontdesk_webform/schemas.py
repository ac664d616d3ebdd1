"""``PLUGINS_CONFIG["webform"]``: which queues the form offers, link lifetimes, limits, origins."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import fields, validate

from frontdesk.plugins import plugin_config

QUEUE_KEY = validate.Regexp(r"^[a-z0-9][a-z0-9_-]*$", error="not a queue key")


def _origin(value: str) -> None:
    """An origin as browsers send it: ``scheme://host[:port]``, nothing after it."""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or value != value.strip()
    ):
        raise ma.ValidationError(f"{value!r} is not an origin such as https://www.example.com")


def _limit_pair() -> fields.Field:
    return fields.Tuple(
        (
            fields.Integer(validate=validate.Range(min=1)),
            fields.Integer(validate=validate.Range(min=1)),
        ),
        metadata={"description": "[submissions, period in seconds]"},
    )


class WebformConfig(ma.Schema):
    """Every setting of the web-form plugin, with its default."""

    queues = fields.List(
        fields.String(validate=QUEUE_KEY),
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Keys of the queues the form offers (default: every active queue)"
        },
    )
    verify_hours = fields.Integer(
        load_default=48,
        validate=validate.Range(min=1, max=24 * 30),
        metadata={"description": "How long the emailed link of an anonymous request works"},
    )
    form_token_hours = fields.Integer(
        load_default=12,
        validate=validate.Range(min=1, max=24 * 7),
        metadata={"description": "How long an opened form can be sent"},
    )
    allowed_origins = fields.List(
        fields.String(validate=_origin),
        load_default=list,
        metadata={"description": "Sites that may embed the form (iframe or embed.js)"},
    )
    rate_limit_per_ip = _limit_pair()
    rate_limit_per_email = _limit_pair()

    @ma.post_load
    def _limits(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data.setdefault("rate_limit_per_ip", (10, 3600))
        data.setdefault("rate_limit_per_email", (5, 3600))
        data["allowed_origins"] = [o.rstrip("/").lower() for o in data["allowed_origins"]]
        return data


def settings() -> dict[str, Any]:
    """The running app's web-form settings (defaults where the configuration is silent)."""
    try:
        return plugin_config("webform")
    except LookupError:
        return _defaults()


@functools.cache
def _defaults() -> dict[str, Any]:
    return WebformConfig().load({})
