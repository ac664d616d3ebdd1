"""UI contributions (public API): panels, actions, route access rules, CSRF, rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdesk.auth import access, current_actor
from frontdesk.ratelimit import RateLimited, check_rate_limit
from frontdesk.web.security import PAGE_CSP, csrf_exempt

__all__ = [
    "PAGE_CSP",
    "Action",
    "Panel",
    "RateLimited",
    "access",
    "check_rate_limit",
    "csrf_exempt",
    "current_actor",
]


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
