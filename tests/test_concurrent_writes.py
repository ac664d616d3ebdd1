"""Several writers at once: every ticket is created, numbered once, with its whole history."""

from __future__ import annotations

import threading

from frontdesk.models import Event, Message, Ticket, User
from frontdesk.services import create_ticket, get_or_create_customer
from sqlalchemy import func, select

WRITERS = 4
TICKETS_EACH = 5


def test_parallel_creates_all_succeed_with_unique_numbers(app, db, make_queue):
    make_queue(key="support")
    db.commit()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                for i in range(TICKETS_EACH):
                    customer = get_or_create_customer(f"writer{n}-{i}@example.com")
                    create_ticket(subject=f"From writer {n}", body_text="Hi", customer=customer)
        except BaseException as exc:  # noqa: BLE001 - reported below: it must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    db.rollback()  # read what the writers committed
    total = WRITERS * TICKETS_EACH
    numbers = db.scalars(select(Ticket.number)).all()
    assert len(numbers) == len(set(numbers)) == total
    assert db.scalar(select(func.count()).select_from(Message)) == total
    assert db.scalar(select(func.count()).select_from(User)) == total
    created = select(func.count()).where(Event.action == "created")
    assert db.scalar(created) == total
