"""The CRM connector contract: look customers up in, and push facts to, an external CRM."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from frontdesk.providers import Provider

if TYPE_CHECKING:
    from frontdesk.models import Ticket, User


@dataclass(frozen=True)
class CRMContact:
    """A contact as the CRM knows it."""

    remote_id: str
    email: str
    name: str = ""
    organization: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


class CRMConnector(Provider):
    """Finds contacts and records ticket activity in an external CRM."""

    kind: ClassVar[str] = "crm"

    @abstractmethod
    def find_contact(self, email: str) -> CRMContact | None:
        """The contact with ``email``, or ``None``."""

    @abstractmethod
    def record_ticket(self, ticket: Ticket, customer: User) -> None:
        """Push (create or update) the ticket as activity on the customer's CRM record."""
