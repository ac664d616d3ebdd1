"""``frontdesk.db.savepoint()``: one item of a shared transaction fails alone.

A batch (inbound mail taken in groups) runs each item in a savepoint: the item that fails must
leave no row and fire no event, while the items before and after it are committed and announced.
"""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from sqlalchemy import select

from frontdesk.db import call_after_commit, savepoint, transaction
from frontdesk.models import Ticket
from frontdesk.services import create_ticket


def test_a_failing_item_is_undone_with_its_events_and_the_others_commit(db, make_customer):
    customer = make_customer()
    announced: list[str] = []

    def announce(subject: str) -> None:
        announced.append(subject)

    with transaction():
        for subject in ("first", "broken", "third"):
            with pytest.raises(RuntimeError) if subject == "broken" else nullcontext():
                with savepoint():
                    create_ticket(subject=subject, body_text="b", customer=customer, actor=customer)
                    call_after_commit(announce, subject=subject)
                    if subject == "broken":
                        raise RuntimeError("this item fails after its writes")
        assert announced == []  # nothing is announced before the commit
    assert announced == ["first", "third"]
    db.expire_all()
    assert sorted(db.scalars(select(Ticket.subject))) == ["first", "third"]


def test_a_savepoint_needs_a_transaction(app):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        with savepoint():
            pass



def test_savepoints_are_sent_without_compiling_a_statement(app, db, monkeypatch):
    # A batch of inbound mail opens several savepoints per message; SQLAlchemy compiled each
    # SAVEPOINT and RELEASE anew (a new name every time, never cached).
    dialect = db.get_bind().dialect
    compiled = []

    class Counting(dialect.statement_compiler):
        def __init__(self, *args, **kwargs):
            compiled.append(args[1] if len(args) > 1 else kwargs.get("statement"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(dialect, "statement_compiler", Counting)
    with transaction():
        for _ in range(600):  # more names than any earlier test used
            with savepoint():
                db.connection()  # a savepoint is sent once it is used
        with pytest.raises(RuntimeError), savepoint():
            db.connection()
            raise RuntimeError("undone")  # ROLLBACK TO as well
    assert compiled == []
