"""Built-in routing: ``manual`` leaves new tickets unassigned for agents to pick up."""

from __future__ import annotations

from collections.abc import Sequence

from frontdesk.i18n import _l
from frontdesk.models import Ticket, User
from frontdesk.plugins import hookimpl
from frontdesk.routing.base import RoutingStrategy


class ManualRouting(RoutingStrategy):
    key = "manual"
    label = _l("Manual (agents pick tickets up)")

    def choose(self, ticket: Ticket, candidates: Sequence[User]) -> User | None:
        return None

    def explain(self, ticket: Ticket, chosen: User | None) -> str:
        return "manual routing: left for an agent to pick up"


@hookimpl(trylast=True)
def register_routing_strategies() -> list[type[RoutingStrategy]]:
    return [ManualRouting]
