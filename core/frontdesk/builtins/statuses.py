"""Built-in statuses: one per category, plus ``merged`` (closed) and ``on_hold`` (pending)."""

from __future__ import annotations

from frontdesk.i18n import _l
from frontdesk.plugins import Status, hookimpl


@hookimpl(trylast=True)
def register_statuses() -> list[Status]:
    return [
        Status("new", _l("New"), "new", order=10),
        Status("open", _l("Open"), "open", order=20),
        Status("pending", _l("Waiting for customer"), "pending", order=30),
        Status("on_hold", _l("On hold"), "pending", order=35),
        Status("solved", _l("Solved"), "solved", order=40),
        Status("closed", _l("Closed"), "closed", order=50),
        Status("merged", _l("Merged"), "closed", order=60),
    ]
