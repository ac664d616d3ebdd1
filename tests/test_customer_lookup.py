"""Customers found or created on first contact, and joined to the organization of their domain."""

from __future__ import annotations

from frontdesk.db import transaction
from frontdesk.models import User
from frontdesk.services import get_or_create_customer
from sqlalchemy import func, select


def users(db) -> int:
    return db.scalar(select(func.count()).select_from(User))


def test_a_new_customer_joins_the_organization_claiming_the_domain(db, make_organization):
    acme = make_organization(name="Acme", domains=["acme.test"])
    other = make_organization(name="Other", domains=["other.test", "acme.testing"])
    make_organization(name="Underscore", domains=["a_b.test"])
    axb = make_organization(name="Lookalike", domains=["axb.test"])
    make_organization(name="Nobody")

    assert get_or_create_customer("ana@ACME.test").organization == acme
    assert get_or_create_customer("bo@acme.testing").organization == other
    assert get_or_create_customer("cy@sub.acme.test").organization is None
    # "_" is a wildcard in SQL LIKE: it must not let a.b.test-like domains match each other.
    assert get_or_create_customer("di@axb.test").organization == axb
    assert get_or_create_customer("ed@mail.example").organization is None


def test_domains_beyond_ascii_are_matched_too(make_organization):
    org = make_organization(name="Zürich", domains=["zürich.test"])
    assert get_or_create_customer("fa@Zürich.test").organization == org


def test_the_lowest_id_wins_when_two_organizations_claim_a_domain(make_organization):
    first = make_organization(name="First", domains=["shared.test"])
    make_organization(name="Second", domains=["shared.test"])
    assert get_or_create_customer("gi@shared.test").organization == first


def test_a_known_address_gives_the_same_user_whatever_its_case(db, make_customer):
    known = make_customer(email="Hana@Example.com")
    before = users(db)
    assert get_or_create_customer("hana@example.COM").id == known.id
    with transaction():  # inside a caller's transaction too
        assert get_or_create_customer("HANA@example.com").id == known.id
    assert users(db) == before


def test_a_customer_created_in_a_failed_transaction_is_not_kept(db):
    before = users(db)
    try:
        with transaction():
            created = get_or_create_customer("ivo@example.com", "Ivo")
            assert created.id is not None and created.name == "Ivo"
            raise RuntimeError("the caller fails after the lookup")
    except RuntimeError:
        pass
    assert users(db) == before
    assert get_or_create_customer("ivo@example.com").name == ""

# Inside a transaction a new customer is one INSERT ... ON CONFLICT that also picks the
# organization by a text test on its JSON list of domains; Python then checks the match exactly.


def test_a_domain_matching_only_inside_another_json_string_does_not_pick_that_organization(db, make_organization):
    tricky = make_organization(name="Tricky", domains=['a"acme.test'])
    real = make_organization(name="Real", domains=["acme.test"])
    with transaction():
        user = get_or_create_customer("zed@acme.test")
    assert tricky.id < real.id
    assert user.organization == real
    db.expire_all()
    assert db.get(User, user.id).organization_id == real.id


def test_a_customer_whose_domain_only_looks_listed_gets_no_organization(db, make_organization):
    make_organization(name="Tricky", domains=['a"acme.test'])
    with transaction():
        user = get_or_create_customer("zed@acme.test")
    assert user.organization is None
    db.expire_all()
    assert db.get(User, user.id).organization_id is None


def test_inside_a_transaction_a_known_address_in_any_case_is_the_same_customer(db, make_organization, make_customer):
    org = make_organization(name="Acme", domains=["acme.test"])
    with transaction():
        a = get_or_create_customer("Ann@ACME.test", "Ann")
        b = get_or_create_customer("ann@acme.TEST", "Other")
    assert a is b and a.organization == org and a.name == "Ann" and a.queues == []
    assert a.email == "Ann@acme.test"
    with transaction():
        c = get_or_create_customer("zo@zürich.test", "Zo")
    assert c.organization is None and c.id is not None
    n = db.scalar(select(func.count()).select_from(User))
    with transaction():
        assert get_or_create_customer("ANN@acme.test").id == a.id
    assert db.scalar(select(func.count()).select_from(User)) == n
