"""Web-form channel: the portal's "new request" form, verified anonymous requests, an embed."""

from __future__ import annotations

from typing import Any

from frontdesk.plugins import PluginInfo, hookimpl

from .i18n import _l
from .schemas import WebformConfig

plugin_info = PluginInfo(
    label=_l("Web form"),
    category="channel",
    config_schema=WebformConfig,
    description=_l("Customers write requests in the portal or in a form embedded on your site."),
)

from . import models  # noqa: E402,F401  (tables must be known before the one-name check)

# --- The channel, its pages and the clean-up of unconfirmed requests ---------------------------
from . import channel, embed, submissions, views  # noqa: E402


@hookimpl
def register_channels() -> list[Any]:
    return [channel.WebformChannel]


@hookimpl
def register_blueprints(app: Any) -> list[Any]:
    return [views.bp, embed.bp]


@hookimpl
def register_periodic_tasks() -> list[Any]:
    return [submissions.PURGE_TASK]
