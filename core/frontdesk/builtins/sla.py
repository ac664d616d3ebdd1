"""Built-in SLA: ``none`` promises nothing; the queue's ``sla_policy`` picks a policy by key."""

from __future__ import annotations

from flask import current_app

from frontdesk.i18n import _l
from frontdesk.models import Queue, Ticket
from frontdesk.plugins import hookimpl
from frontdesk.sla.base import BusinessCalendar, SLAPolicy, SLATarget


class NoSLAPolicy(SLAPolicy):
    key = "none"
    label = _l("No SLA")

    def targets(self, ticket: Ticket, calendar: BusinessCalendar) -> list[SLATarget]:
        return []


@hookimpl(trylast=True)
def register_sla_policies() -> list[type[SLAPolicy]]:
    return [NoSLAPolicy]


@hookimpl(trylast=True)
def sla_policy_for(ticket: Ticket) -> SLAPolicy:
    registry = current_app.extensions["frontdesk.registry"]
    key = ticket.queue.sla_policy if ticket.queue and ticket.queue.sla_policy else "none"
    policy_cls = registry.providers.get("sla", {}).get(key, NoSLAPolicy)
    return policy_cls(registry.plugins[policy_cls.plugin_name].config if policy_cls.plugin_name else {})


@hookimpl(trylast=True)
def business_calendar(queue: Queue | None) -> BusinessCalendar:
    return BusinessCalendar()
