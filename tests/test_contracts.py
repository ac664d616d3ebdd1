"""The provider contract suites, run against small real providers and shown to catch bad ones."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from frontdesk.builtins.routing import ManualRouting
from frontdesk.builtins.sla import NoSLAPolicy
from frontdesk.channels.base import Channel, InboundMessage
from frontdesk.crm.base import CRMConnector, CRMContact
from frontdesk.kb.base import SearchBackend, SearchDocument, SearchHit
from frontdesk.models import Message, Ticket, User
from frontdesk.plugins import hookimpl
from frontdesk.routing.base import RoutingStrategy
from frontdesk.sla.base import BusinessCalendar, SLAPolicy, SLATarget
from frontdesk.testing.contracts import (
    ChannelContract,
    CRMConnectorContract,
    RoutingStrategyContract,
    SearchBackendContract,
    SLAPolicyContract,
)


def registering(hook_name: str, *classes: type) -> Any:
    """A throwaway plugin whose ``hook_name`` returns ``classes``."""
    return SimpleNamespace(**{hook_name: hookimpl(lambda: list(classes))})


# --- Reference providers ----------------------------------------------------------------------


class FirstCandidateRouting(RoutingStrategy):
    key = "first_candidate"
    label = "First candidate"

    def choose(self, ticket: Ticket, candidates: Sequence[User]) -> User | None:
        return min(candidates, key=lambda agent: agent.id, default=None)


class FixedHoursPolicy(SLAPolicy):
    key = "fixed_hours"
    label = "Fixed hours"
    HOURS = {"urgent": 1, "high": 4, "normal": 8, "low": 24}

    def targets(self, ticket: Ticket, calendar: BusinessCalendar) -> list[SLATarget]:
        hours = timedelta(hours=self.HOURS[ticket.priority])
        return [
            SLATarget("first_response", calendar.add(ticket.created_at, hours)),
            SLATarget("resolution", calendar.add(ticket.created_at, hours * 3)),
        ]


WORD = re.compile(r"\w+")


class MemorySearch(SearchBackend):
    """Counts query words in each document; any word matches."""

    key = "memory"
    label = "In memory"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.docs: dict[str, tuple[SearchDocument, Counter[str]]] = {}

    def index(self, documents: list[SearchDocument]) -> None:
        for doc in documents:
            words = Counter(w.casefold() for w in WORD.findall(f"{doc.title} {doc.body}"))
            self.docs[doc.doc_id] = (doc, words)

    def remove(self, doc_ids: list[str]) -> None:
        for doc_id in doc_ids:
            self.docs.pop(doc_id, None)

    def search(self, query: str, language: str | None = None, limit: int = 10) -> list[SearchHit]:
        terms = [w.casefold() for w in WORD.findall(query)]
        hits = []
        for doc, words in self.docs.values():
            score = sum(words[t] for t in terms)
            if score and (language is None or doc.language == language):
                hits.append(SearchHit(doc.doc_id, float(score), title=doc.title))
        return sorted(hits, key=lambda h: (-h.score, h.doc_id))[:limit]


class MemoryCRM(CRMConnector):
    key = "memory_crm"
    label = "In-memory CRM"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.contacts: dict[str, CRMContact] = {}
        self.records: dict[str, dict[str, Any]] = {}

    def find_contact(self, email: str) -> CRMContact | None:
        return self.contacts.get(email.casefold())

    def record_ticket(self, ticket: Ticket, customer: User) -> None:
        contact = self.find_contact(customer.email)
        if contact is not None:
            self.records[ticket.number] = {"contact": contact.remote_id, "subject": ticket.subject}


class MemoryChannel(Channel):
    """Receives dict payloads (as a webhook would) and keeps what it sends in an outbox."""

    key = "memory_channel"
    label = "In-memory channel"
    can_send = True
    outbox: dict[int, str] = {}

    def parse(self, payload: dict[str, str]) -> InboundMessage:
        return InboundMessage(
            channel=self.key,
            sender_email=payload["from"],
            subject=payload["subject"],
            body_text=payload["text"],
            external_id=payload["id"],
        )

    def send(self, ticket: Ticket, message: Message) -> str | None:
        return self.outbox.setdefault(message.id, f"memory-{message.id}")


class FeedbackFormChannel(MemoryChannel):
    """A channel that only receives: replies stay in the desk."""

    key = "feedback_form"
    label = "Feedback form"
    can_send = False

    def send(self, ticket: Ticket, message: Message) -> str | None:
        return None


def payload_factory(provider: MemoryChannel) -> Any:
    counter = iter(range(1, 1000))

    def make(*, sender_email: str, subject: str, body: str) -> InboundMessage:
        payload = {"id": f"<{next(counter)}@{provider.key}>", "from": sender_email}
        return provider.parse(payload | {"subject": subject, "text": body})

    return make


# --- The suites against the reference providers -----------------------------------------------


class TestManualRouting(RoutingStrategyContract):
    @pytest.fixture
    def provider(self) -> RoutingStrategy:
        return ManualRouting()


class TestFirstCandidateRouting(RoutingStrategyContract):
    @pytest.fixture
    def provider(self, plugins: Any) -> RoutingStrategy:
        plugins.register(registering("register_routing_strategies", FirstCandidateRouting))
        return FirstCandidateRouting()


class TestNoSLAPolicy(SLAPolicyContract):
    @pytest.fixture
    def provider(self) -> SLAPolicy:
        return NoSLAPolicy()


class TestFixedHoursPolicy(SLAPolicyContract):
    @pytest.fixture
    def provider(self, plugins: Any) -> SLAPolicy:
        plugins.register(registering("register_sla_policies", FixedHoursPolicy))
        return FixedHoursPolicy()


class TestMemorySearch(SearchBackendContract):
    @pytest.fixture
    def provider(self, plugins: Any) -> SearchBackend:
        plugins.register(registering("register_search_backends", MemorySearch))
        return MemorySearch()


class TestMemoryCRM(CRMConnectorContract):
    @pytest.fixture
    def provider(self, plugins: Any) -> CRMConnector:
        plugins.register(registering("register_crm_connectors", MemoryCRM))
        return MemoryCRM()

    @pytest.fixture
    def known_email(self, provider: MemoryCRM) -> str:
        provider.contacts["ada@example.test"] = CRMContact("crm-7", "ada@example.test", "Ada")
        return "ada@example.test"

    @pytest.fixture
    def crm_records(self, provider: MemoryCRM) -> Any:
        return lambda ticket: [r for n, r in provider.records.items() if n == ticket.number]


class TestMemoryChannel(ChannelContract):
    @pytest.fixture
    def provider(self, plugins: Any) -> Channel:
        plugins.register(registering("register_channels", MemoryChannel))
        return MemoryChannel()

    @pytest.fixture
    def inbound_message(self, provider: MemoryChannel) -> Any:
        return payload_factory(provider)


class TestFeedbackFormChannel(ChannelContract):
    @pytest.fixture
    def provider(self, plugins: Any) -> Channel:
        plugins.register(registering("register_channels", FeedbackFormChannel))
        return FeedbackFormChannel()

    @pytest.fixture
    def inbound_message(self, provider: MemoryChannel) -> Any:
        return payload_factory(provider)


# --- The suites catch broken providers --------------------------------------------------------


def test_a_key_that_is_not_a_lower_case_identifier_fails():
    class Spaced(FirstCandidateRouting):
        key = "First Candidate"

    with pytest.raises(AssertionError, match="lower-case identifier"):
        RoutingStrategyContract().test_key_is_a_stable_lower_case_identifier(Spaced())


def test_a_provider_its_plugin_never_registered_fails(app):
    with pytest.raises(AssertionError, match="no routing provider is registered"):
        RoutingStrategyContract().test_is_registered_and_built_as_the_core_builds_it(
            app, FirstCandidateRouting()
        )


def test_a_label_that_renders_empty_fails(app):
    class Unlabelled(FirstCandidateRouting):
        label = " "

    with pytest.raises(AssertionError, match="label is empty"):
        RoutingStrategyContract().test_has_a_label_in_every_language(app, Unlabelled())


def test_a_strategy_choosing_outside_the_candidates_fails(make_queue, make_agent, make_ticket):
    outsider = make_agent()

    class Favouritism(FirstCandidateRouting):
        def choose(self, ticket, candidates):
            return outsider

    with pytest.raises(AssertionError, match="not among the candidates"):
        RoutingStrategyContract().test_chooses_one_of_the_candidates_or_nobody(
            Favouritism(), make_queue, make_agent, make_ticket
        )


def test_a_strategy_that_assigns_by_itself_fails(make_queue, make_agent, make_ticket):
    from frontdesk.services import assign

    class Pushy(FirstCandidateRouting):
        def choose(self, ticket, candidates):
            assign(ticket, candidates[0], None)
            return candidates[0]

    with pytest.raises(AssertionError, match="the core assigns"):
        RoutingStrategyContract().test_choosing_assigns_nothing_by_itself(
            Pushy(), make_queue, make_agent, make_ticket
        )


@pytest.mark.parametrize(
    ("due", "message"),
    [
        (lambda ticket: ticket.created_at.replace(tzinfo=None) + timedelta(hours=1), "naive"),
        (lambda ticket: ticket.created_at - timedelta(minutes=5), "not after"),
    ],
)
def test_sla_targets_naive_or_due_before_creation_fail(due, message, make_queue, make_ticket):
    class Sloppy(FixedHoursPolicy):
        def targets(self, ticket, calendar):
            return [SLATarget("first_response", due(ticket))]

    with pytest.raises(AssertionError, match=message):
        SLAPolicyContract().test_targets_are_named_aware_and_due_after_creation(
            Sloppy(), BusinessCalendar(), make_queue, make_ticket
        )


def test_a_search_backend_that_raises_on_a_bad_query_fails():
    class Strict(MemorySearch):
        def search(self, query, language=None, limit=10):
            if query.count("(") != query.count(")"):
                raise ValueError("unbalanced parentheses")
            return super().search(query, language, limit)

    with pytest.raises(pytest.fail.Exception, match=r"search\('\('\) raised ValueError"):
        SearchBackendContract().test_empty_and_unparsable_queries_return_no_hits(Strict())


def test_a_search_backend_that_keeps_old_versions_fails():
    class Appending(MemorySearch):
        def index(self, documents):
            for doc in documents:
                words = Counter(w.casefold() for w in WORD.findall(f"{doc.title} {doc.body}"))
                key = doc.doc_id if doc.doc_id not in self.docs else f"{doc.doc_id}+"
                self.docs[key] = (doc, words)

    with pytest.raises(AssertionError):
        SearchBackendContract().test_indexing_a_doc_id_again_replaces_it(Appending())


def test_a_search_backend_ignoring_the_language_fails():
    class Monolingual(MemorySearch):
        def search(self, query, language=None, limit=10):
            return super().search(query, None, limit)

    with pytest.raises(AssertionError):
        SearchBackendContract().test_filters_by_language(Monolingual())


def test_a_crm_that_invents_contacts_fails():
    class Eager(MemoryCRM):
        def find_contact(self, email):
            return CRMContact("new", email)

    with pytest.raises(AssertionError):
        CRMConnectorContract().test_an_unknown_address_has_no_contact(Eager())


def test_a_crm_that_records_a_ticket_twice_fails(make_customer, make_ticket):
    pushed: list[str] = []

    class Duplicating(MemoryCRM):
        def record_ticket(self, ticket, customer):
            pushed.append(ticket.number)

    with pytest.raises(AssertionError, match="expected one CRM record"):
        CRMConnectorContract().test_recording_a_ticket_twice_keeps_one_record(
            Duplicating(), "ada@example.test", lambda t: [n for n in pushed if n == t.number],
            make_customer, make_ticket,
        )


def test_a_channel_without_delivery_ids_fails():
    channel = MemoryChannel()

    def without_ids(**kwargs):
        message = payload_factory(channel)(**kwargs)
        message.external_id = None
        return message

    with pytest.raises(AssertionError, match="external_id"):
        ChannelContract().test_inbound_messages_are_normalised(
            channel, without_ids, "someone@example.test"
        )


def test_a_channel_whose_delivery_fails_is_reported(plugins, agent, db):
    class Broken(MemoryChannel):
        key = "broken_channel"

        def send(self, ticket, message):
            raise ConnectionError("gateway unreachable")

    plugins.register(registering("register_channels", Broken))
    with pytest.raises(AssertionError, match="gateway unreachable"):
        ChannelContract().test_the_core_delivers_agent_replies_through_it(
            Broken(), payload_factory(Broken()), "someone@example.test", agent, db
        )
