"""Contract test suites that provider plugins subclass (public API of ``frontdesk.testing``).

Each suite is a pytest test class checking what a provider base class promises. Subclass it in
your plugin's tests under a ``Test...`` name and give it a ``provider`` fixture (plus the fixtures
the suite's docstring lists)::

    from frontdesk.testing.contracts import RoutingStrategyContract

    class TestLeastBusy(RoutingStrategyContract):
        @pytest.fixture
        def provider(self):
            return LeastBusy()

``provider`` must be registered in the test's app under its key: an installed plugin is loaded by
the ``app`` fixture; a provider defined in a test is registered with the ``plugins`` fixture from
inside the ``provider`` fixture. The suites use the shipped fixtures (``make_ticket``, ...) only.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from frontdesk.channels.base import Channel, InboundMessage
from frontdesk.crm.base import CRMConnector, CRMContact
from frontdesk.kb.base import SearchBackend, SearchDocument, SearchHit
from frontdesk.models import PRIORITIES
from frontdesk.providers import Provider
from frontdesk.routing.base import RoutingStrategy
from frontdesk.sla.base import BusinessCalendar, SLAPolicy, SLATarget

__all__ = [
    "ChannelContract",
    "CRMConnectorContract",
    "ProviderContract",
    "RoutingStrategyContract",
    "SLAPolicyContract",
    "SearchBackendContract",
]

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _registry(app: Any) -> Any:
    return app.extensions["frontdesk.registry"]


class ProviderContract:
    """What every provider shares: a stable lower-case ``key``, a label, registration by key."""

    base: ClassVar[type[Provider]] = Provider
    kind: ClassVar[str] = ""

    @pytest.fixture(autouse=True)
    def _contract_app(self, app: Any) -> Any:
        """Every check runs inside the test app (the providers use the database and config)."""
        return app

    @pytest.fixture
    def provider(self) -> Provider:
        pytest.fail(
            f"{type(self).__name__} must define a 'provider' fixture returning the "
            f"{self.base.__name__} to check"
        )

    def test_is_a_provider_of_its_kind(self, provider: Provider) -> None:
        assert isinstance(provider, self.base), f"{provider!r} is not a {self.base.__name__}"

    def test_key_is_a_stable_lower_case_identifier(self, provider: Provider) -> None:
        key = type(provider).key
        assert isinstance(key, str) and KEY_RE.match(key), (
            f"{type(provider).__name__}.key is {key!r}; use a lower-case identifier "
            "(config and stored data refer to it)"
        )
        assert "key" not in vars(provider), "key must be a class attribute, not set per instance"

    def test_has_a_label_in_every_language(self, app: Any, provider: Provider) -> None:
        for locale in app.config["LANGUAGES"]:
            with app.test_request_context(headers={"Accept-Language": locale}):
                label = str(type(provider).label)
            assert label.strip(), f"{type(provider).__name__}.label is empty in {locale!r}"

    def test_is_registered_and_built_as_the_core_builds_it(
        self, app: Any, provider: Provider
    ) -> None:
        registry = _registry(app)
        registered = registry.providers.get(self.kind, {}).get(provider.key)
        assert registered is not None, (
            f"no {self.kind} provider is registered under {provider.key!r}: is the plugin "
            f"installed, or registered with the 'plugins' fixture in the 'provider' fixture?"
        )
        assert isinstance(provider, registered), f"{provider.key!r} is registered as {registered!r}"
        config = registry.plugins[registered.plugin_name].config
        assert registered(config).key == provider.key


class RoutingStrategyContract(ProviderContract):
    """A ``RoutingStrategy`` picks one of the candidates or nobody, and says why.

    Fixtures: ``provider`` (the strategy).
    """

    base = RoutingStrategy
    kind = "routing"

    def test_chooses_one_of_the_candidates_or_nobody(
        self, provider: RoutingStrategy, make_queue: Any, make_agent: Any, make_ticket: Any
    ) -> None:
        agents = [make_agent() for _ in range(3)]
        queue = make_queue(members=agents)
        for _ in range(3):
            ticket = make_ticket(queue=queue)
            for candidates in (agents, agents[:1], agents[1:]):
                chosen = provider.choose(ticket, list(candidates))
                allowed = {a.id for a in candidates}
                assert chosen is None or chosen.id in allowed, (
                    f"{provider.key!r} chose {chosen!r}, who is not among the candidates"
                )

    def test_chooses_nobody_without_candidates(
        self, provider: RoutingStrategy, make_queue: Any, make_agent: Any, make_ticket: Any
    ) -> None:
        ticket = make_ticket(queue=make_queue(members=[make_agent()]))
        assert provider.choose(ticket, []) is None

    def test_choosing_assigns_nothing_by_itself(
        self, provider: RoutingStrategy, make_queue: Any, make_agent: Any, make_ticket: Any
    ) -> None:
        agents = [make_agent(), make_agent()]
        ticket = make_ticket(queue=make_queue(members=agents))
        provider.choose(ticket, agents)
        assert ticket.assignee is None, "choose() must only choose; the core assigns"

    def test_explains_its_choice_in_words(
        self, provider: RoutingStrategy, make_queue: Any, make_agent: Any, make_ticket: Any
    ) -> None:
        agents = [make_agent(), make_agent()]
        ticket = make_ticket(queue=make_queue(members=agents))
        for chosen in (provider.choose(ticket, agents), None):
            text = provider.explain(ticket, chosen)
            assert isinstance(text, str) and text.strip(), f"explain() returned {text!r}"

    def test_the_core_routes_new_tickets_through_it(
        self, provider: RoutingStrategy, make_queue: Any, make_agent: Any, make_ticket: Any, db: Any
    ) -> None:
        from sqlalchemy import select

        from frontdesk.models import Event

        agents = [make_agent(), make_agent()]
        ticket = make_ticket(queue=make_queue(members=agents, routing=provider.key))
        assert ticket.assignee is None or ticket.assignee.id in {a.id for a in agents}
        errors = db.scalars(
            select(Event.new).where(Event.ticket_id == ticket.id, Event.action == "routing")
        ).all()
        assert not [e for e in errors if e and e.get("error")], f"routing failed: {errors}"


class SLAPolicyContract(ProviderContract):
    """An ``SLAPolicy`` gives targets with unique names, due (aware) after the ticket was created.

    Fixtures: ``provider`` (the policy); optionally ``calendar`` (default: the app's calendar for
    a ticket without a queue).
    """

    base = SLAPolicy
    kind = "sla"

    @pytest.fixture
    def calendar(self, app: Any) -> BusinessCalendar:
        return app.extensions["frontdesk"].hook.business_calendar(queue=None)

    def test_targets_are_named_aware_and_due_after_creation(
        self, provider: SLAPolicy, calendar: BusinessCalendar, make_queue: Any, make_ticket: Any
    ) -> None:
        queue = make_queue()
        for priority in PRIORITIES:
            ticket = make_ticket(queue=queue, priority=priority)
            targets = provider.targets(ticket, calendar)
            assert isinstance(targets, list), f"targets() returned {targets!r}, not a list"
            names = [t.name for t in targets]
            assert len(names) == len(set(names)), f"target names repeat: {names}"
            for target in targets:
                assert isinstance(target, SLATarget), f"{target!r} is not an SLATarget"
                assert isinstance(target.name, str) and target.name.strip()
                assert target.due_at.utcoffset() is not None, (
                    f"target {target.name!r} is due at a naive datetime {target.due_at!r}"
                )
                assert target.due_at > ticket.created_at, (
                    f"target {target.name!r} ({priority}) is due at {target.due_at}, not after "
                    f"the ticket was created ({ticket.created_at})"
                )

    def test_the_core_records_its_targets_on_new_tickets(
        self, provider: SLAPolicy, calendar: BusinessCalendar, make_queue: Any, make_ticket: Any
    ) -> None:
        ticket = make_ticket(queue=make_queue(sla_policy=provider.key), priority="high")
        expected = [t.name for t in provider.targets(ticket, calendar)]
        recorded = ticket.plugin_data.get("sla")
        if expected:
            assert recorded and recorded["policy"] == provider.key, f"recorded {recorded!r}"
            assert [t["name"] for t in recorded["targets"]] == expected
        else:
            assert recorded is None, f"the policy promises nothing, yet {recorded!r} was recorded"


class SearchBackendContract(ProviderContract):
    """A ``SearchBackend`` finds what it indexed, replaces by ``doc_id``, forgets what it removed,
    filters by language and answers garbage queries with no hits.

    Fixtures: ``provider`` (a fresh, empty backend, e.g. with its index under ``tmp_path``).
    """

    base = SearchBackend
    kind = "search"

    DOCUMENTS: ClassVar[list[SearchDocument]] = [
        SearchDocument("kb-1", "Resetting a zephyrix router", "Hold the zephyrix reset button."),
        SearchDocument("kb-2", "Billing questions", "Invoices are sent every month by email."),
        SearchDocument("kb-3", "Reimpostare il router zephyrix", "Tenere premuto il tasto.", "it"),
        SearchDocument("kb-4", "Сброс маршрутизатора", "Удерживайте кнопку zephyrix.", "ru"),
    ]
    GARBAGE: ClassVar[tuple[str, ...]] = (
        "", "   ", "(", ")", '"', "((", "[", "{", "^", "~", "\\", ":", "title:", "-", "+",
        "AND", "OR NOT", "qqxz AND", "(qqxz", 'qqxz"', "qqxz^^", "\x00",
    )

    def _search(self, provider: SearchBackend, query: str, **kwargs: Any) -> list[SearchHit]:
        try:
            hits = provider.search(query, **kwargs)
        except Exception as exc:
            pytest.fail(f"search({query!r}) raised {exc!r}; a bad query must return no hits")
        assert isinstance(hits, list), f"search({query!r}) returned {hits!r}, not a list"
        for hit in hits:
            assert isinstance(hit, SearchHit), f"search({query!r}) returned {hit!r}"
        return hits

    def _ids(self, provider: SearchBackend, query: str, **kwargs: Any) -> list[str]:
        return [hit.doc_id for hit in self._search(provider, query, **kwargs)]

    def test_finds_indexed_documents_by_body_and_title_best_first(
        self, provider: SearchBackend
    ) -> None:
        provider.index(list(self.DOCUMENTS))
        hits = self._search(provider, "zephyrix")
        assert {h.doc_id for h in hits} == {"kb-1", "kb-3", "kb-4"}
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True), f"hits are not best first: {scores}"
        assert self._ids(provider, "invoices") == ["kb-2"]
        billing = self._search(provider, "billing")
        assert [h.doc_id for h in billing] == ["kb-2"]
        assert billing[0].title in ("", "Billing questions")

    def test_filters_by_language(self, provider: SearchBackend) -> None:
        provider.index(list(self.DOCUMENTS))
        assert self._ids(provider, "zephyrix", language="it") == ["kb-3"]
        assert self._ids(provider, "zephyrix", language="en") == ["kb-1"]
        assert self._ids(provider, "кнопку", language="ru") == ["kb-4"]
        assert self._ids(provider, "invoices", language="it") == []

    def test_indexing_a_doc_id_again_replaces_it(self, provider: SearchBackend) -> None:
        provider.index(list(self.DOCUMENTS))
        provider.index([SearchDocument("kb-2", "Billing questions", "Refunds take five days.")])
        assert self._ids(provider, "invoices") == []
        assert self._ids(provider, "refunds") == ["kb-2"]
        assert self._ids(provider, "billing") == ["kb-2"]

    def test_removed_documents_are_not_found_and_unknown_ids_are_ignored(
        self, provider: SearchBackend
    ) -> None:
        provider.index(list(self.DOCUMENTS))
        provider.remove(["kb-1", "no-such-document"])
        assert sorted(self._ids(provider, "zephyrix")) == ["kb-3", "kb-4"]

    def test_limit_caps_the_hits(self, provider: SearchBackend) -> None:
        provider.index(
            [SearchDocument(f"many-{n}", f"Quokka note {n}", "quokka " * (n + 1)) for n in range(5)]
        )
        assert len(self._search(provider, "quokka", limit=2)) == 2
        assert len(self._search(provider, "quokka")) == 5

    def test_empty_and_unparsable_queries_return_no_hits(self, provider: SearchBackend) -> None:
        provider.index(list(self.DOCUMENTS))
        for query in self.GARBAGE:
            assert self._search(provider, query) == [], f"search({query!r}) found something"
        for query in ("(zephyrix", 'zephyrix"', "zephyrix AND", "title:zephyrix)"):
            self._search(provider, query)  # may find documents, must not raise


class CRMConnectorContract(ProviderContract):
    """A ``CRMConnector`` finds known contacts, answers ``None`` for strangers and records a
    ticket once however often it is pushed.

    Fixtures: ``provider`` (the connector, talking to a test double of the CRM);
    ``known_email`` (an address the CRM under test knows); ``crm_records`` (a callable taking a
    ticket and returning the records the CRM holds for it).
    """

    base = CRMConnector
    kind = "crm"

    def test_an_unknown_address_has_no_contact(self, provider: CRMConnector) -> None:
        assert provider.find_contact(f"nobody-{secrets.token_hex(6)}@example.invalid") is None

    def test_finds_a_known_contact(self, provider: CRMConnector, known_email: str) -> None:
        contact = provider.find_contact(known_email)
        assert isinstance(contact, CRMContact), f"find_contact returned {contact!r}"
        assert contact.email.casefold() == known_email.casefold()
        assert isinstance(contact.remote_id, str) and contact.remote_id

    def test_recording_a_ticket_twice_keeps_one_record(
        self,
        provider: CRMConnector,
        known_email: str,
        crm_records: Callable[[Any], list[Any]],
        make_customer: Any,
        make_ticket: Any,
    ) -> None:
        customer = make_customer(email=known_email)
        ticket = make_ticket(customer=customer)
        provider.record_ticket(ticket, customer)
        provider.record_ticket(ticket, customer)
        records = crm_records(ticket)
        assert len(records) == 1, f"expected one CRM record of {ticket.number}, got {records!r}"

    def test_recording_a_ticket_of_a_stranger_does_not_fail(
        self, provider: CRMConnector, make_customer: Any, make_ticket: Any
    ) -> None:
        customer = make_customer(email=f"stranger-{secrets.token_hex(6)}@example.test")
        provider.record_ticket(make_ticket(customer=customer), customer)


class ChannelContract(ProviderContract):
    """A ``Channel`` turns what it receives into messages the core records once, and sends replies.

    Fixtures: ``provider`` (the channel); ``inbound_message`` (a callable
    ``(*, sender_email, subject, body) -> InboundMessage`` that makes the channel produce a message
    from its own raw input, e.g. by parsing a raw email or a webhook payload; each call is a new
    delivery).
    """

    base = Channel
    kind = "channel"

    @pytest.fixture
    def sender(self) -> str:
        return f"contract-{secrets.token_hex(5)}@example.test"

    def test_inbound_messages_are_normalised(
        self, provider: Channel, inbound_message: Callable[..., InboundMessage], sender: str
    ) -> None:
        first = inbound_message(sender_email=sender, subject="Broken lamp", body="It flickers.")
        second = inbound_message(sender_email=sender, subject="Broken lamp", body="Still.")
        assert isinstance(first, InboundMessage), f"inbound_message returned {first!r}"
        assert first.channel == provider.key
        assert (first.sender_email or "").casefold() == sender.casefold()
        assert "It flickers." in first.body_text
        assert first.external_id, "every delivery needs an external_id so redeliveries are caught"
        assert first.external_id != second.external_id

    def test_an_inbound_message_opens_a_ticket(
        self, provider: Channel, inbound_message: Callable[..., InboundMessage], sender: str
    ) -> None:
        from frontdesk.services import receive_inbound

        message = inbound_message(sender_email=sender, subject="Broken lamp", body="It flickers.")
        outcome = receive_inbound(message)
        assert outcome.action == "created", outcome.describe()
        ticket = outcome.ticket
        assert ticket.channel == provider.key
        assert ticket.customer.email.casefold() == sender.casefold()
        assert "It flickers." in ticket.messages[0].body_text

    def test_a_redelivery_is_reported_as_duplicate(
        self,
        provider: Channel,
        inbound_message: Callable[..., InboundMessage],
        sender: str,
        db: Any,
    ) -> None:
        from frontdesk.services import receive_inbound

        message = inbound_message(sender_email=sender, subject="Broken lamp", body="It flickers.")
        first = receive_inbound(message)
        again = receive_inbound(message)
        assert again.action == "duplicate", again.describe()
        assert again.ticket.id == first.ticket.id
        db.refresh(first.ticket)
        assert len(first.ticket.messages) == 1

    def test_send_returns_an_external_id_or_none(
        self, provider: Channel, inbound_message: Callable[..., InboundMessage], sender: str,
        agent: Any,
    ) -> None:
        from frontdesk.services import receive_inbound, reply

        message = inbound_message(sender_email=sender, subject="Broken lamp", body="It flickers.")
        ticket = receive_inbound(message).ticket
        answer = reply(ticket, "We are sending a new lamp.", agent)
        sent = provider.send(ticket, answer)
        assert sent is None or (isinstance(sent, str) and sent), f"send() returned {sent!r}"
        if not provider.can_send:
            assert sent is None, "a channel that cannot send returns None"

    def test_the_core_delivers_agent_replies_through_it(
        self, provider: Channel, inbound_message: Callable[..., InboundMessage], sender: str,
        agent: Any, db: Any,
    ) -> None:
        from frontdesk.services import receive_inbound, reply

        message = inbound_message(sender_email=sender, subject="Broken lamp", body="It flickers.")
        ticket = receive_inbound(message).ticket
        answer = reply(ticket, "We are sending a new lamp.", agent)
        db.refresh(answer)
        if provider.can_send:
            assert "delivery_error" not in answer.meta, answer.meta["delivery_error"]
            assert answer.meta.get("delivered_at"), "the reply was not delivered"
        else:
            assert not answer.meta.get("delivered_at"), "a channel that cannot send delivered"
