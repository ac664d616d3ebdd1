"""Merge, split, links, watchers, tags and custom fields."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from frontdesk.models import Event, Message, TicketLink
from frontdesk.plugins import hookimpl
from frontdesk.services import (
    Conflict,
    ValidationFailed,
    add_watcher,
    link_tickets,
    merge_tickets,
    remove_watcher,
    reply,
    split_ticket,
    ticket_links,
    update_ticket,
)


def test_merge_moves_the_thread_and_closes_the_source(make_ticket, agent, plugins, db):
    merged = []

    class Listener:
        @hookimpl
        def ticket_merged(self, source, target):
            merged.append((source.number, target.number))

    plugins.register(Listener())
    target = make_ticket(tags=["vpn"])
    source = make_ticket(tags=["urgent-ish"])
    reply(source, "Looking into it", agent)
    merge_tickets(source, target, agent)
    db.expire_all()
    assert source.status == "merged" and source.status_category == "closed"
    assert source.merged_into_id == target.id
    assert len(target.messages) == 3 and source.messages == []
    assert set(target.tag_names) == {"vpn", "urgent-ish"}
    assert source.customer in target.watchers  # the other customer keeps hearing about it
    assert [(link.kind, link.target_id) for link in ticket_links(source)] == [("duplicate_of", target.id)]
    assert merged == [(source.number, target.number)]
    with pytest.raises(Conflict):
        merge_tickets(source, target, agent)
    with pytest.raises(ValidationFailed):
        merge_tickets(target, target, agent)


def test_split_moves_chosen_messages_to_a_new_ticket(make_ticket, agent, db):
    ticket = make_ticket(subject="Two problems")
    second = reply(ticket, "Also my printer", ticket.customer)
    new = split_ticket(ticket, [second.id], agent, subject="Printer")
    db.expire_all()
    assert new.subject == "Printer" and new.customer_id == ticket.customer_id
    assert second.id in [m.id for m in new.messages]
    assert second.id not in [m.id for m in ticket.messages]
    assert ("split_from", ticket.id) in [(lnk.kind, lnk.target_id) for lnk in ticket_links(new)]
    with pytest.raises(ValidationFailed):
        split_ticket(ticket, [m.id for m in ticket.messages], agent)  # nothing would remain
    with pytest.raises(ValidationFailed):
        split_ticket(ticket, [new.messages[0].id], agent)  # not this ticket's message


def test_links_are_idempotent_and_typed(make_ticket, agent, db):
    a, b = make_ticket(), make_ticket()
    link_tickets(a, b, "related", agent)
    link_tickets(a, b, "related", agent)
    assert db.scalar(select(TicketLink).where(TicketLink.source_id == a.id)) is not None
    assert len(ticket_links(a)) == 1 and len(ticket_links(b)) == 1
    with pytest.raises(ValidationFailed):
        link_tickets(a, b, "cousin_of", agent)


def test_watchers_are_recorded_in_history(make_ticket, agent, make_agent, db):
    ticket = make_ticket()
    other = make_agent()
    add_watcher(ticket, other, agent)
    add_watcher(ticket, other, agent)
    assert ticket.watchers == [other]
    remove_watcher(ticket, other, agent)
    actions = db.scalars(select(Event.action).where(Event.ticket_id == ticket.id)).all()
    assert actions.count("watcher_added") == 1 and "watcher_removed" in actions


CUSTOM = [
    {"key": "order", "label": "Order number", "type": "text", "required": True},
    {"key": "plan", "type": "choice", "choices": ["free", "pro"]},
    {"key": "seats", "type": "number"},
]


def test_custom_fields_are_validated_per_queue(make_ticket, make_queue, agent, db):
    queue = make_queue(custom_fields=CUSTOM)
    with pytest.raises(ValidationFailed) as info:
        make_ticket(queue=queue)
    assert "custom_fields.order" in info.value.errors
    ticket = make_ticket(queue=queue, custom_fields={"order": "A-1", "plan": "pro"})
    assert ticket.custom_fields == {"order": "A-1", "plan": "pro"}
    with pytest.raises(ValidationFailed) as info:
        update_ticket(ticket, {"custom_fields": {"plan": "gold", "seats": "ten", "nope": 1}}, agent)
    assert set(info.value.errors) == {
        "custom_fields.plan",
        "custom_fields.seats",
        "custom_fields.nope",
    }
    db.rollback()
    update_ticket(ticket, {"custom_fields": {"seats": 12}}, agent)
    assert ticket.custom_fields == {"order": "A-1", "plan": "pro", "seats": 12}


def test_duplicate_custom_field_keys_are_refused(make_queue):
    with pytest.raises(ValidationFailed) as info:
        make_queue(custom_fields=[{"key": "a"}, {"key": "a", "type": "number"}])
    assert info.value.errors == {"custom_fields.1": ["duplicate field key 'a'"]}


def test_tags_are_normalised(make_ticket, agent):
    ticket = make_ticket(tags=[" Billing ", "billing", "VPN"])
    assert ticket.tag_names == ["billing", "vpn"]
    with pytest.raises(ValidationFailed):
        update_ticket(ticket, {"tags": ["a,b"]}, agent)


def test_history_is_append_only(make_ticket, db):
    ticket = make_ticket()
    event = db.scalars(select(Event).where(Event.ticket_id == ticket.id)).first()
    event.new = {"forged": True}
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()
    db.rollback()
    db.delete(db.get(Event, event.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()
    db.rollback()


def test_ticket_prepare_and_select_queue_hooks(make_ticket, make_queue, plugins):
    general = make_queue(key="general")
    tier2 = make_queue(key="tier2")

    class VipRule:
        @hookimpl
        def select_queue(self, ticket):
            return tier2 if ticket.customer.vip else None

        @hookimpl
        def ticket_prepare(self, ticket, data):
            if ticket.customer.vip:
                ticket.priority = "high"
                data["tags"].append("vip")

    plugins.register(VipRule())
    vip = make_ticket(customer__vip=True)
    assert vip.queue == tier2 and vip.priority == "high" and vip.tag_names == ["vip"]
    assert make_ticket().queue == general  # no opinion: the core's default answers


def test_ticket_number_generator_is_pluggable(make_ticket, plugins):
    class YearNumbers:
        @hookimpl
        def ticket_number(self, sequence):
            return f"2026-{sequence:05d}"

    plugins.register(YearNumbers())
    assert make_ticket().number.startswith("2026-0")


def test_messages_keep_sanitised_html(make_ticket, agent, db):
    ticket = make_ticket()
    msg = reply(
        ticket,
        "",
        agent,
        body_html='<p onclick="x()">Hi<script>alert(1)</script><img src="https://t.example/p.gif">'
        '<img src="cid:logo"></p>',
    )
    stored = db.get(Message, msg.id)
    assert "script" not in stored.body_html and "onclick" not in stored.body_html
    assert "t.example" not in stored.body_html  # remote images (tracking pixels) removed
    assert 'src="cid:logo"' in stored.body_html
    assert stored.body_text == "Hi"
