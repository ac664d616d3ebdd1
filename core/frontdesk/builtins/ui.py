"""Built-in navigation items of the agent desk, the admin area and the portal."""

from __future__ import annotations

from frontdesk.i18n import _l
from frontdesk.models import User
from frontdesk.plugins import NavItem, hookimpl


@hookimpl(trylast=True)
def nav_items(area: str, actor: User | None) -> list[NavItem]:
    if area == "desk" and actor is not None and actor.is_staff:
        items = [NavItem("tickets", _l("Tickets"), "desk.tickets", order=10)]
        if actor.is_admin:
            items.append(NavItem("admin", _l("Administration"), "admin.index", order=90))
        return items
    if area == "admin" and actor is not None and actor.is_admin:
        return [
            NavItem("queues", _l("Queues"), "admin.queues", order=10),
            NavItem("agents", _l("Agents"), "admin.agents", order=20),
            NavItem("statuses", _l("Statuses"), "admin.statuses", order=30),
            NavItem("custom_fields", _l("Custom fields"), "admin.custom_fields", order=35),
            NavItem("plugins", _l("Plugins"), "admin.plugins", order=40),
            NavItem("themes", _l("Themes"), "admin.themes", order=50),
        ]
    if area == "portal":
        return [NavItem("requests", _l("My requests"), "portal.requests", order=10)]
    return []
