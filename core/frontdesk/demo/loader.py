"""Writes the demo tickets: each conversation replayed step by step at its own moment in the past.

Every write goes through :mod:`frontdesk.services` under :func:`frontdesk.db.clock_at`, so ticket
timestamps, message times and history events agree with each other. The random generator is seeded:
the same seed gives the same tickets (only the dates move with the day the demo is loaded).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from frontdesk.db import clock_at, session
from frontdesk.demo.content import PHRASES, SCENARIOS, Scenario
from frontdesk.demo.people import DemoPeople
from frontdesk.models import Ticket, User
from frontdesk.services import (
    add_message,
    add_watcher,
    assign,
    change_status,
    create_ticket,
    link_tickets,
    merge_tickets,
    update_ticket,
)

# Final status of the conversations, and how long ago (in days) such a ticket may have started.
STATUS_PLAN = (
    ("new", 26, (0, 3)),
    ("open", 50, (1, 21)),
    ("pending", 24, (2, 30)),
    ("on_hold", 8, (3, 30)),
    ("solved", 46, (1, 40)),
    ("closed", 40, (10, 60)),
)
DUPLICATES = 6  # tickets a customer opens twice, merged by the agent: 194 + 6 = 200 tickets
RELATED_LINKS = 6
CHANNELS = ("email", "webform", "portal", "phone")
CHANNEL_WEIGHTS = (55, 20, 15, 10)


@dataclass
class Plan:
    """One ticket to write: who, what, how it ends, and when it starts."""

    status: str
    scenario: Scenario
    customer: User
    created_at: datetime
    channel: str
    duplicate: bool = False
    agent: User | None = field(default=None, repr=False)
    order: int = 0  # varies the order and invoice numbers the texts mention
    ticket: Ticket | None = field(default=None, repr=False)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run services as if at ``moment``; new rows are flushed inside so their defaults (history
    event times) take that moment too."""
    with clock_at(moment):
        yield
        if session.new:
            session.flush()


class TicketWriter:
    """Plays the planned conversations through the services."""

    def __init__(self, people: DemoPeople, now: datetime, rng: random.Random) -> None:
        self.people = people
        self.now = now
        self.rng = rng
        self.latest = now - timedelta(minutes=1)

    def plans(self) -> list[Plan]:
        """Every ticket to write, oldest first (so ticket numbers grow with time)."""
        plans = []
        for status, count, (oldest, newest) in STATUS_PLAN:
            for _ in range(count):
                customer = self.rng.choice(self.people.customers)
                scenario = self.rng.choice(SCENARIOS[customer.language or "en"])
                age = timedelta(days=self.rng.uniform(newest, oldest))
                channel = self.rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
                plans.append(Plan(status, scenario, customer, self.now - age, channel))
        answered = [p for p in plans if p.status != "new"]
        for plan in self.rng.sample(answered, DUPLICATES):
            plan.duplicate = True
        plans.sort(key=lambda p: p.created_at)
        return plans

    def later(self, moment: datetime, low_minutes: float, high_minutes: float) -> datetime:
        """A moment a random while after ``moment``, never in the future."""
        step = timedelta(minutes=self.rng.uniform(low_minutes, high_minutes))
        return min(moment + step, self.latest)

    def agent_for(self, plan: Plan) -> User:
        """A member of the ticket's queue, preferably one who speaks the customer's language."""
        members = [u for u in self.people.queues[plan.scenario.queue].members if u.is_staff]
        speakers = [u for u in members if u.language == plan.customer.language]
        return self.rng.choice(speakers or members)

    def fill(self, text: str, plan: Plan) -> str:
        """``text`` with the customer's and agent's first names and the plan's number."""
        customer = (plan.customer.name or "").split(" ")[0]
        agent = plan.agent.name.split(" ")[0] if plan.agent else ""
        return text.format(name=customer, agent=agent, order=plan.order)

    def write(self, plan: Plan) -> Ticket:
        """Create one ticket and replay its conversation up to its planned status."""
        rng, scenario, customer = self.rng, plan.scenario, plan.customer
        plan.order = rng.randint(10000, 99999)
        plan.agent = agent = self.agent_for(plan)
        priority = scenario.priority
        if rng.random() < 0.15:
            priority = rng.choice(("low", "normal", "high", "urgent"))
        tags = list(scenario.tags) + (["vip"] if customer.vip else [])
        phone = plan.channel == "phone"
        t = plan.created_at
        with at(t):
            ticket = create_ticket(
                subject=self.fill(scenario.subject, plan),
                body_text=self.fill(scenario.opening, plan),
                customer=customer,
                actor=agent if phone else customer,
                queue=self.people.queues[scenario.queue],
                priority=priority,
                channel=plan.channel,
                tags=tags,
                custom_fields=dict(scenario.fields),
                assignee=agent if phone else None,
                created_at=t,
            )
        plan.ticket = ticket
        if plan.status == "new":
            self._still_new(plan, ticket, agent, t)
            return ticket

        duplicate = None
        if plan.duplicate:
            t = self.later(t, 20, 240)
            duplicate = self._duplicate(plan, ticket, t)
        t = self.later(t, 10, 480)
        with at(t):
            if ticket.assignee is None:
                assign(ticket, agent, agent)
            if duplicate is not None:
                merge_tickets(duplicate, ticket, agent)
            self._say(ticket, "agent", self.fill(scenario.answer, plan), agent, t)
            if plan.status == "pending":
                update_ticket(
                    ticket,
                    {"status": "pending", "pending_until": t + timedelta(days=rng.randint(2, 10))},
                    agent,
                )
            else:
                change_status(ticket, "open", agent)
        if rng.random() < 0.1:
            watcher = self.rng.choice([u for u in self.people.staff if u is not agent])
            with at(t):
                add_watcher(ticket, watcher, agent)
        if plan.status == "pending":
            return ticket

        t = self.later(t, 60, 1800)
        with at(t):
            self._say(ticket, "customer", self.fill(scenario.followup, plan), customer, t)
        if rng.random() < 0.4 or plan.status == "on_hold":
            t = self.later(t, 5, 120)
            with at(t):
                self._say(ticket, "internal_note", scenario.note, agent, t)
        if plan.status == "on_hold":
            with at(t):
                change_status(ticket, "on_hold", agent)
        if plan.status in ("open", "on_hold"):
            return ticket

        t = self.later(t, 30, 600)
        with at(t):
            self._say(ticket, "agent", self.fill(scenario.resolution, plan), agent, t)
        if rng.random() < 0.4:
            t = self.later(t, 30, 900)
            with at(t):
                self._say(ticket, "customer", PHRASES[ticket.language].thanks, customer, t)
        t = self.later(t, 1, 60)
        with at(t):
            change_status(ticket, "solved", agent)
        if plan.status == "closed":
            t = self.later(t, 2 * 1440, 7 * 1440)
            with at(t):
                change_status(ticket, "closed", None)  # closed by the instance after a quiet week
        return ticket

    def _still_new(self, plan: Plan, ticket: Ticket, agent: User, t: datetime) -> None:
        """An unanswered ticket: maybe triaged by an agent, maybe nudged by its customer."""
        if self.rng.random() < 0.35:
            t = self.later(t, 5, 90)
            with at(t):
                assign(ticket, agent, agent)
                self._say(ticket, "internal_note", plan.scenario.note, agent, t)
        if self.rng.random() < 0.3:
            t = self.later(t, 240, 1800)
            with at(t):
                self._say(ticket, "customer", PHRASES[ticket.language].nudge, plan.customer, t)

    def _duplicate(self, plan: Plan, ticket: Ticket, t: datetime) -> Ticket:
        """The customer writes again in a new ticket (merged into the first one later)."""
        language = plan.customer.language or "en"
        body = PHRASES[language].duplicate + "\n\n" + self.fill(plan.scenario.opening, plan)
        with at(t):
            return create_ticket(
                subject=ticket.subject,
                body_text=body,
                customer=plan.customer,
                actor=plan.customer,
                queue=ticket.queue,
                priority=ticket.priority,
                channel="email",
                custom_fields=dict(ticket.custom_fields),
                created_at=t,
            )

    def _say(self, ticket: Ticket, kind: str, text: str, author: User, t: datetime) -> None:
        # Marked delivered: a demo reply must never be sent, even if a mail channel is set up.
        meta = {"demo": True}
        if kind == "agent":
            meta["delivered_at"] = t.isoformat()
        add_message(
            ticket,
            kind=kind,
            body_text=text,
            author=author,
            actor=author,
            channel="web" if kind != "customer" else ticket.channel,
            created_at=t,
            meta=meta,
        )

    def link_related(self, plans: list[Plan]) -> int:
        """Link a few tickets about the same problem from different customers."""
        groups: dict[str, list[Ticket]] = {}
        for plan in plans:
            if plan.ticket is not None and plan.ticket.merged_into_id is None:
                groups.setdefault(plan.scenario.subject, []).append(plan.ticket)
        pairs = [
            (group[0], group[-1])
            for group in groups.values()
            if len(group) > 1 and group[0].customer_id != group[-1].customer_id
        ]
        made = 0
        for source, target in self.rng.sample(pairs, min(RELATED_LINKS, len(pairs))):
            agent = target.assignee or self.people.staff[0]
            moment = max(source.created_at, target.created_at) + timedelta(minutes=30)
            with at(min(moment, self.latest)):
                link_tickets(target, source, "related", agent)
            made += 1
        return made
