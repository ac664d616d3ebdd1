"""The SLA contract: a policy gives a ticket its targets; a calendar says when the clock runs."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from frontdesk.providers import Provider

if TYPE_CHECKING:
    from frontdesk.models import Ticket


@dataclass(frozen=True)
class SLATarget:
    """One promise on a ticket: ``name`` (first_response, resolution, ...) due at ``due_at``."""

    name: str
    due_at: datetime
    explanation: str = ""


class BusinessCalendar:
    """When the SLA clock runs; the default runs around the clock."""

    key: ClassVar[str] = "always"

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start``."""
        return start + duration


class SLAPolicy(Provider):
    """Computes a ticket's targets; an empty list means no promise."""

    kind: ClassVar[str] = "sla"

    @abstractmethod
    def targets(self, ticket: Ticket, calendar: BusinessCalendar) -> list[SLATarget]:
        """The targets that apply to ``ticket`` now."""
