"""UI contributions (public API): panels, actions, template slots, route access rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdesk.auth import access, current_actor

__all__ = ["Action", "Panel", "access", "current_actor"]


@dataclass(frozen=True)
class Panel:
    """A ticket sidebar panel: a plugin template rendered with ``context``."""

    key: str
    title: Any
    template: str
    context: dict[str, Any] | None = None
    order: int = 100


@dataclass(frozen=True)
class Action:
    """An extra action on a ticket: a button posting to ``endpoint``."""

    key: str
    label: Any
    endpoint: str
    order: int = 100
    danger: bool = False
