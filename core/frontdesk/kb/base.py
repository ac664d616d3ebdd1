"""The search contract used by the knowledge base (and any plugin that indexes text)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from frontdesk.providers import Provider


@dataclass(frozen=True)
class SearchDocument:
    """A document to index: ``doc_id`` is stable, ``language`` picks the analyzer."""

    doc_id: str
    title: str
    body: str
    language: str = "en"
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    score: float
    title: str = ""
    highlight: str = ""


class SearchBackend(Provider):
    """Full-text index: add, remove and query documents, per language."""

    kind: ClassVar[str] = "search"

    @abstractmethod
    def index(self, documents: list[SearchDocument]) -> None:
        """Add or replace ``documents`` (same ``doc_id`` replaces)."""

    @abstractmethod
    def remove(self, doc_ids: list[str]) -> None:
        """Remove documents; unknown ids are ignored."""

    @abstractmethod
    def search(self, query: str, language: str | None = None, limit: int = 10) -> list[SearchHit]:
        """Best hits first; an empty or unparsable query returns no hits rather than raising."""
