"""A reply touches its ticket with one UPDATE written at once, as a flush would have written it.

``update_now`` keeps what the unit of work guarantees: the version check, a clean object after
the write, and after a rolled-back savepoint an object that shows the database's values again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy import update as sql_update

from frontdesk.db import get_db, savepoint, session, transaction
from frontdesk.models import Ticket
from frontdesk.services import StaleVersion, reply
from frontdesk.services.rows import update_now


@pytest.fixture
def statements(app):
    """The SQL statements run meanwhile, in order."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = get_db().engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def _row(ticket_id):
    table = Ticket.__table__
    with get_db().engine.connect() as other:
        return other.execute(select(table).where(table.c.id == ticket_id)).mappings().one()


def test_a_reply_writes_the_ticket_once_with_its_version_check(make_ticket, db, statements):
    ticket = make_ticket()
    db.commit()
    version = ticket.version
    statements.clear()

    reply(ticket, "Still broken", ticket.customer)

    updates = [s for s in statements if s.startswith("UPDATE ticket")]
    assert len(updates) == 1 and "version" in updates[0].split("WHERE")[1]
    assert ticket.version == version + 1 and not session.dirty
    row = _row(ticket.id)
    assert (row["version"], row["updated_at"]) == (ticket.version, ticket.updated_at)


def test_a_ticket_changed_meanwhile_refuses_the_write(make_ticket, app, db):
    ticket = make_ticket()
    db.commit()
    with get_db().engine.begin() as other:  # another process got there first
        other.execute(
            sql_update(Ticket.__table__)
            .where(Ticket.__table__.c.id == ticket.id)
            .values(priority="urgent", version=ticket.version + 1)
        )
    with pytest.raises(StaleVersion):
        reply(ticket, "Mine", ticket.customer)
    db.refresh(ticket)
    assert ticket.priority == "urgent" and len(ticket.messages) == 1


def test_a_rolled_back_savepoint_shows_the_rows_values_again(make_ticket, db):
    ticket = make_ticket(subject="Before")
    db.commit()
    version = ticket.version
    with transaction():
        with pytest.raises(RuntimeError), savepoint():
            ticket.subject = "Inside"
            assert update_now(ticket)
            raise RuntimeError("undo this")
        assert (ticket.subject, ticket.version) == ("Before", version)
        ticket.subject = "After"  # and a later write still passes the version check
        assert update_now(ticket)
    assert (_row(ticket.id)["subject"], _row(ticket.id)["version"]) == ("After", version + 1)


def test_other_changes_are_left_to_the_flush(make_ticket, db, agent, statements):
    ticket = make_ticket()
    db.commit()
    with transaction():
        ticket.priority = "high"
        ticket.assignee = agent  # a relationship: the unit of work knows how
        statements.clear()
        assert not update_now(ticket)
        assert not statements and ticket in session.dirty
    assert (_row(ticket.id)["priority"], _row(ticket.id)["assignee_id"]) == ("high", agent.id)
    assert not update_now(ticket)  # nothing changed: nothing to write
