"""Who sees which tickets: admins all, agents their teams' queues, customers their own."""

from __future__ import annotations

from sqlalchemy import select

from frontdesk.models import Ticket
from frontdesk.services import can_view_ticket, visible_tickets_clause


def visible(db, actor):
    return set(db.scalars(select(Ticket.number).where(visible_tickets_clause(actor))))


def test_visibility_rules(db, make_agent, make_admin, make_customer, make_queue, make_organization, make_ticket):
    sales_agent = make_agent()
    support_agent = make_agent()
    sales = make_queue(key="sales", members=[sales_agent])
    support = make_queue(key="support", members=[support_agent])
    shared_org = make_organization(name="Shared Ltd", shared_tickets=True)
    private_org = make_organization(name="Private Ltd")
    alice = make_customer(organization=shared_org)
    bob = make_customer(organization=shared_org)
    carol = make_customer(organization=private_org)
    dave = make_customer(organization=private_org)

    t_alice = make_ticket(customer=alice, queue=sales)
    t_bob = make_ticket(customer=bob, queue=support)
    t_carol = make_ticket(customer=carol, queue=support)
    t_dave = make_ticket(customer=dave, queue=sales, assignee=support_agent)

    assert visible(db, make_admin()) == {t.number for t in (t_alice, t_bob, t_carol, t_dave)}
    assert visible(db, sales_agent) == {t_alice.number, t_dave.number}
    assert visible(db, support_agent) == {t_bob.number, t_carol.number, t_dave.number}
    assert visible(db, alice) == {t_alice.number, t_bob.number}  # shared organisation
    assert visible(db, carol) == {t_carol.number}  # private organisation
    assert visible(db, None) == set()
    for actor in (sales_agent, support_agent, alice, carol):
        for ticket in (t_alice, t_bob, t_carol, t_dave):
            assert can_view_ticket(actor, ticket) == (ticket.number in visible(db, actor))
