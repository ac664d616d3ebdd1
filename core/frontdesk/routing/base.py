"""The routing contract: a strategy picks an agent for a ticket among candidates."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from frontdesk.providers import Provider

if TYPE_CHECKING:
    from frontdesk.models import Ticket, User


class RoutingStrategy(Provider):
    """Chooses the assignee of a new or re-queued ticket; ``None`` leaves it unassigned.

    ``explain`` says in words why the last choice was made, for the ticket's history.
    """

    kind: ClassVar[str] = "routing"

    @abstractmethod
    def choose(self, ticket: Ticket, candidates: Sequence[User]) -> User | None:
        """Return one of ``candidates`` or ``None``."""

    def explain(self, ticket: Ticket, chosen: User | None) -> str:
        who = chosen.name or chosen.email if chosen else "nobody"
        return f"{self.key} chose {who}"
