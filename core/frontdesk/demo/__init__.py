"""Demo data: a small multilingual helpdesk with two months of history, built through the services.

``load_demo()`` fills an empty database with four queues (teams), an admin and six agents,
forty customers writing in English, Italian, Romanian, Russian and Persian, four organizations and
200 tickets with their threads. It refuses to touch a database that already has tickets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from frontdesk.db import session, transaction, utcnow
from frontdesk.demo.people import ADMIN_EMAIL, DEMO_PASSWORD, create_people
from frontdesk.models import Ticket, User

DEFAULT_SEED = 2024

__all__ = ["DEFAULT_SEED", "DEMO_PASSWORD", "DemoLogin", "DemoResult", "demo_logins", "load_demo"]


@dataclass(frozen=True)
class DemoLogin:
    """An account of the demo that can sign in with :data:`DEMO_PASSWORD`."""

    email: str
    name: str
    role: str
    language: str | None


@dataclass
class DemoResult:
    """What :func:`load_demo` did: ``loaded`` is false when the database already had tickets."""

    loaded: bool
    reason: str = ""
    tickets: int = 0
    customers: int = 0
    links: int = 0
    logins: list[DemoLogin] = field(default_factory=list)


def ticket_count() -> int:
    return session.scalar(select(func.count()).select_from(Ticket)) or 0


def demo_logins() -> list[DemoLogin]:
    """The demo accounts present in the database: the admin, the agents, a customer per language."""
    from frontdesk.demo.people import STAFF, customer_login_emails

    emails = [m.email for m in STAFF] + customer_login_emails()
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    return [
        DemoLogin(u.email, u.name, u.role, u.language)
        for u in (users.get(e) for e in emails)
        if u is not None
    ]


def load_demo(seed: int = DEFAULT_SEED, now: datetime | None = None) -> DemoResult:
    """Load the demo data into an empty database, in one transaction (all or nothing).

    Does nothing when the database already has tickets: ``DemoResult.loaded`` is then false and
    ``reason`` says why (with ``logins`` filled if the demo accounts are there).
    """
    existing = ticket_count()
    if existing:
        demo_present = session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)) is not None
        reason = (
            "the demo data is already loaded"
            if demo_present
            else f"the database already has {existing} tickets; the demo needs an empty database"
        )
        return DemoResult(loaded=False, reason=reason, tickets=existing, logins=demo_logins())

    from frontdesk.demo.loader import TicketWriter

    rng = random.Random(seed)
    now = now or utcnow()
    with transaction():
        people = create_people()
        writer = TicketWriter(people, now, rng)
        plans = writer.plans()
        for plan in plans:
            writer.write(plan)
        links = writer.link_related(plans)
        tickets = ticket_count()
    return DemoResult(
        loaded=True,
        tickets=tickets,
        customers=len(people.customers),
        links=links,
        logins=demo_logins(),
    )
