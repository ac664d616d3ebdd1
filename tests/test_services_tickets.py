"""Ticket services: creation, history, events after commit, status rules, locking."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from frontdesk.models import Event, Ticket
from frontdesk.plugins import hookimpl
from frontdesk.services import (
    StaleVersion,
    TransitionRefused,
    ValidationFailed,
    add_note,
    assign,
    change_status,
    reply,
    update_queue,
    update_ticket,
)


def test_new_ticket_gets_number_first_message_and_history(make_ticket, db):
    ticket = make_ticket(subject="Printer on fire", body_text="Smoke everywhere")
    assert ticket.number.startswith("FD-")
    assert ticket.status == "new" and ticket.status_category == "new"
    assert [m.kind for m in ticket.messages] == ["customer"]
    actions = db.scalars(select(Event.action).where(Event.ticket_id == ticket.id)).all()
    assert actions[0] == "created" and "message" in actions


def test_a_ticket_opened_without_a_queue_goes_to_the_first_active_one(make_ticket, make_queue):
    first, second = make_queue(key="first-desk"), make_queue(key="second-desk")
    assert make_ticket().queue == first
    update_queue(first, is_active=False)
    assert make_ticket().queue == second
    update_queue(second, is_active=False)
    assert make_ticket().queue is None  # no active queue: the ticket waits unqueued
    update_queue(first, is_active=True)
    assert make_ticket(queue=None).queue == first


def test_ticket_numbers_are_sequential_and_unique(make_ticket):
    numbers = [make_ticket().number for _ in range(3)]
    values = [int(n.split("-")[1]) for n in numbers]
    assert values == sorted(values) and len(set(values)) == 3


def test_events_fire_after_commit_and_a_failing_plugin_loses_nothing(
    make_ticket, plugins, db, caplog
):
    seen = []

    class Recorder:
        @hookimpl
        def ticket_created(self, ticket):
            # the ticket is committed by the time the event fires
            seen.append(ticket.id)

    class Broken:
        @hookimpl
        def ticket_created(self, ticket):
            raise RuntimeError("boom")

    plugins.register(Recorder(), name="recorder")
    plugins.register(Broken(), name="broken")
    with caplog.at_level(logging.ERROR):
        ticket = make_ticket()
    assert seen == [ticket.id]
    assert db.get(Ticket, ticket.id) is not None
    assert "broken" in caplog.text and "ticket_created" in caplog.text


def test_a_plugin_can_refuse_a_status_transition(make_ticket, agent, plugins, db):
    class NeedsReply:
        @hookimpl
        def status_transition_issues(self, ticket, new):
            if new == "solved" and ticket.first_response_at is None:
                return ["answer the customer before solving"]
            return []

    plugins.register(NeedsReply())
    ticket = make_ticket()
    with pytest.raises(TransitionRefused) as info:
        change_status(ticket, "solved", agent)
    assert info.value.reasons == ["answer the customer before solving"]
    db.refresh(ticket)
    assert ticket.status == "new"
    reply(ticket, "Fixed it", agent)
    change_status(ticket, "solved", agent)
    assert ticket.status_category == "solved" and ticket.solved_at is not None


def test_customer_reply_reopens_a_pending_ticket(make_ticket, agent):
    ticket = make_ticket()
    change_status(ticket, "pending", agent)
    reply(ticket, "Still broken", ticket.customer)
    assert ticket.status_category == "open"


def test_stale_version_is_refused(make_ticket, agent, db):
    ticket = make_ticket()
    version = ticket.version
    update_ticket(ticket, {"priority": "high"}, agent, expected_version=version)
    with pytest.raises(StaleVersion):
        update_ticket(ticket, {"priority": "low"}, agent, expected_version=version)
    db.refresh(ticket)
    assert ticket.priority == "high"


def test_invalid_changes_leave_the_ticket_as_it_was(make_ticket, agent, db):
    ticket = make_ticket(tags=["billing"])
    with pytest.raises(ValidationFailed) as info:
        update_ticket(ticket, {"tags": ["ok"], "priority": "whenever"}, agent)
    assert "priority" in info.value.errors
    db.rollback()
    db.refresh(ticket)
    assert ticket.tag_names == ["billing"] and ticket.priority == "normal"


def test_nul_bytes_and_empty_subjects_are_refused(make_ticket):
    with pytest.raises(ValidationFailed) as info:
        make_ticket(subject="bad\x00subject")
    assert "subject" in info.value.errors
    with pytest.raises(ValidationFailed):
        make_ticket(subject="   ")


def test_internal_notes_are_staff_only(make_ticket, agent):
    ticket = make_ticket()
    note = add_note(ticket, "Customer is on the old plan", agent)
    assert note.kind == "internal_note" and not note.is_public
    with pytest.raises(ValidationFailed):
        add_note(ticket, "I am not staff", ticket.customer)


def test_assign_refuses_customers(make_ticket, customer, agent):
    ticket = make_ticket()
    with pytest.raises(ValidationFailed):
        assign(ticket, customer, agent)
    assign(ticket, agent, agent)
    assert ticket.assignee_id == agent.id


def test_a_concurrent_write_is_detected_not_lost(make_ticket, agent, db, app):
    from sqlalchemy import update as sql_update

    ticket = make_ticket()
    # another process bumps the row behind this session's back
    with app.extensions["frontdesk.db"].engine.begin() as other:
        other.execute(
            sql_update(Ticket.__table__)
            .where(Ticket.__table__.c.id == ticket.id)
            .values(priority="urgent", version=ticket.version + 1)
        )
    with pytest.raises(StaleVersion):
        update_ticket(ticket, {"subject": "mine"}, agent)
    db.refresh(ticket)
    assert ticket.priority == "urgent" and ticket.subject != "mine"
