"""Placing a new ticket: routing it to an agent of its queue and computing its SLA targets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from frontdesk.models import Queue, Ticket, User
from frontdesk.pluginmanager import get_registry, hook
from frontdesk.services.history import record_event


class _Candidates(Sequence):
    """The active staff of a queue's team, read from the database only if a strategy looks."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._members: list[User] | None = None

    def _load(self) -> list[User]:
        if self._members is None:
            self._members = [m for m in self._queue.members if m.is_staff and m.is_active]
        return self._members

    def __getitem__(self, index: Any) -> Any:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[User]:
        return iter(self._load())

    def __repr__(self) -> str:
        return f"<candidates of {self._queue!r}>"


def route(ticket: Ticket, actor: User | None) -> None:
    """Ask the queue's routing strategy for an assignee and record why."""
    queue = ticket.queue
    if queue is None:
        return
    registry = get_registry()
    key = queue.routing or "manual"
    try:
        strategy_cls = registry.provider("routing", key)
        strategy = strategy_cls(registry.plugins[strategy_cls.plugin_name].config)
    except LookupError:
        record_event(ticket, "routing", actor, new={"strategy": key, "error": "not installed"})
        return
    # Manual routing never looks at the team, so it is loaded only when a strategy does.
    chosen = strategy.choose(ticket, _Candidates(queue))
    if chosen is not None:
        from frontdesk.services.tickets import assign

        assign(ticket, chosen, actor, reason=strategy.explain(ticket, chosen))


def apply_sla(ticket: Ticket) -> None:
    """Compute the ticket's SLA targets with the policy the ``sla_policy_for`` hook picks."""
    policy = hook().sla_policy_for(ticket=ticket)
    if policy is None:
        return
    calendar = hook().business_calendar(queue=ticket.queue)
    targets = policy.targets(ticket, calendar)
    data = dict(ticket.plugin_data)
    if targets:
        data["sla"] = {
            "policy": policy.key,
            "targets": [
                {"name": t.name, "due_at": t.due_at.isoformat(), "explanation": t.explanation}
                for t in targets
            ],
        }
    else:
        data.pop("sla", None)
    if data != ticket.plugin_data:  # an equal value would still make the ticket dirty
        ticket.plugin_data = data
