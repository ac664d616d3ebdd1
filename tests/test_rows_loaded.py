"""Objects built from rows read with a Core statement behave like ones the ORM loaded.

The signed-in user of a token and the queue a request names are read this way on every API
request; a change made to them afterwards must be written like any other.
"""

from __future__ import annotations

from sqlalchemy import select

from frontdesk.db import session, transaction
from frontdesk.models import Queue, User
from frontdesk.services.rows import loaded
from frontdesk.services.tokens import user_for_token


def _row(model, id_):
    table = model.__table__
    return session.connection().execute(select(table).where(table.c.id == id_)).mappings().one()


def test_a_loaded_user_is_persistent_and_its_changes_are_written(app, db, make_agent, make_api_token):
    agent = make_agent(name="Ada")
    token = make_api_token(agent)
    agent_id = agent.id
    db.commit()
    db.expunge_all()

    user = user_for_token(token)
    assert user.id == agent_id and user.name == "Ada" and user.is_staff
    assert user in session and not session.dirty
    assert user.queues == []  # relationships load when read
    with transaction():
        user.plugin_data["crm"] = {"id": 7}  # a change inside a JSON value is tracked
        user.name = "Ada L."
    session.expunge_all()
    again = session.scalar(select(User).where(User.id == agent_id))
    assert again.name == "Ada L." and again.plugin_data == {"crm": {"id": 7}}


def test_the_sessions_own_object_is_returned(app, db, make_queue):
    queue = make_queue(key="billing")
    db.commit()
    queue.name = "Billing (changed, not written)"
    assert loaded(Queue, _row(Queue, queue.id)) is queue  # not a second copy of the row


def test_a_revoked_token_or_a_deactivated_user_gets_nobody(app, db, make_agent, make_api_token):
    agent = make_agent()
    token = make_api_token(agent)
    db.commit()
    assert user_for_token(token) is not None
    with transaction():
        agent.is_active = False
    session.expunge_all()
    assert user_for_token(token) is None
    assert user_for_token(token + "x") is None


def test_load_reads_one_row_and_returns_the_sessions_object_afterwards(app, db, make_ticket):
    from sqlalchemy import event

    from frontdesk.db import get_db, load
    from frontdesk.models import Ticket

    ticket = make_ticket(subject="Loaded", tags=["billing"])
    ticket_id = ticket.id
    db.commit()
    db.expunge_all()
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement
    event.listen(get_db().engine, "before_cursor_execute", listener)
    try:
        first = load(Ticket, ticket_id)
        assert len(seen) == 1 and first.subject == "Loaded" and not db.dirty
        assert load(Ticket, ticket_id) is first and len(seen) == 1  # no second read
        assert first.tag_names == ["billing"]  # a relationship loads when read
        assert load(Ticket, ticket_id + 1000) is None
    finally:
        event.remove(get_db().engine, "before_cursor_execute", listener)
    with transaction():
        first.subject = "Changed"  # persistent: changes are written like any other
    db.expunge_all()
    assert load(Ticket, ticket_id).subject == "Changed"
    with transaction():
        db.delete(load(Ticket, ticket_id))
        assert load(Ticket, ticket_id) is None  # deleted in this session: gone
