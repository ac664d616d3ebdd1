"""What the demo tickets say: a few conversations per language, written by native-style speakers.

Each :class:`Scenario` is one customer problem told in full (opening, the agent's first answer,
the customer's follow-up, the agent's resolution); the loader cuts it short to match the status a
ticket ends in. Placeholders: ``{name}`` (customer's first name), ``{agent}`` (agent's first
name), ``{order}`` (a number that varies between tickets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scenario:
    """One customer problem and how the conversation about it goes."""

    queue: str
    subject: str
    opening: str
    answer: str
    followup: str
    resolution: str
    note: str
    tags: tuple[str, ...] = ()
    priority: str = "normal"
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Phrases:
    """Short lines any conversation in a language can use."""

    nudge: str  # the customer asks for news on an unanswered ticket
    thanks: str  # the customer confirms the fix before the ticket is solved
    duplicate: str  # the customer writes again about the same problem


def _load() -> tuple[dict[str, list[Scenario]], dict[str, Phrases]]:
    from frontdesk.demo.content import en, fa, it, ro, ru

    modules = {"en": en, "it": it, "ro": ro, "ru": ru, "fa": fa}
    return (
        {lang: list(m.SCENARIOS) for lang, m in modules.items()},
        {lang: m.PHRASES for lang, m in modules.items()},
    )


SCENARIOS, PHRASES = _load()
LANGUAGES = tuple(SCENARIOS)

__all__ = ["LANGUAGES", "PHRASES", "SCENARIOS", "Phrases", "Scenario"]
