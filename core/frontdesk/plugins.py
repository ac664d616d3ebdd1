"""The public face of the plugin system: ``hookimpl`` and ``PluginInfo``.

A plugin is a module (or object) registered under its entry-point name in the group
``frontdesk.plugins``. It implements hooks from :mod:`frontdesk.hookspecs` with ``@hookimpl`` and
may describe itself with a module attribute ``plugin_info = PluginInfo(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pluggy

PROJECT = "frontdesk"
ENTRY_POINT_GROUP = "frontdesk.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

CATEGORIES = (
    "channel",
    "routing",
    "sla",
    "automation",
    "kb",
    "crm",
    "report",
    "csat",
    "theme",
    "integration",
    "core",
    "other",
)


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin says about itself; version and URLs come from its distribution metadata.

    ``config_schema`` is a marshmallow ``Schema`` class validating ``PLUGINS_CONFIG["<name>"]``;
    ``requires`` names other plugins that must be enabled (they migrate and load first).
    """

    label: Any
    category: str = "other"
    requires: tuple[str, ...] = ()
    config_schema: type | None = None
    description: Any = ""
    public_data: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(
                f"PluginInfo.category {self.category!r} is not one of {', '.join(CATEGORIES)}"
            )


STATUS_CATEGORIES = ("new", "open", "pending", "solved", "closed")


@dataclass(frozen=True)
class Status:
    """A ticket status a plugin registers; the core and reports reason about ``category`` only."""

    key: str
    label: Any
    category: str
    order: int = 100

    def __post_init__(self) -> None:
        if self.category not in STATUS_CATEGORIES:
            raise ValueError(
                f"status {self.key!r}: category {self.category!r} is not one of "
                + ", ".join(STATUS_CATEGORIES)
            )


@dataclass(frozen=True)
class Permission:
    """A named permission (``<plugin>.<action>``) and the roles that hold it by default."""

    name: str
    label: Any
    roles: tuple[str, ...] = ("admin",)


@dataclass(frozen=True)
class NavItem:
    """An entry in a navigation area (``desk``, ``admin``, ``portal``)."""

    key: str
    label: Any
    endpoint: str
    order: int = 100
    icon: str = ""


def plugin_config(name: str) -> dict[str, Any]:
    """The validated configuration of the enabled plugin ``name`` (``PLUGINS_CONFIG[name]``).

    Raises ``LookupError`` when no such plugin is enabled in the current app.
    """
    from flask import current_app

    plugins = current_app.extensions["frontdesk.registry"].plugins
    if name not in plugins:
        raise LookupError(f"plugin {name!r} is not enabled")
    return plugins[name].config


def registered_statuses() -> dict[str, Status]:
    """Every status registered in the current app, by key (labels, categories, order)."""
    from flask import current_app

    return dict(current_app.extensions["frontdesk.registry"].statuses)


__all__ = [
    "CATEGORIES",
    "ENTRY_POINT_GROUP",
    "STATUS_CATEGORIES",
    "NavItem",
    "Permission",
    "PluginInfo",
    "Status",
    "hookimpl",
    "hookspec",
    "plugin_config",
    "registered_statuses",
]
