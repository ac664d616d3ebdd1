"""Creating a ticket checks the usual body by hand; it must answer exactly as marshmallow would.

``TicketCreateSchema.load`` takes a fast path for the common valid shape and hands everything else
to marshmallow. Every single-field variation and every pair of fields below must give the same
data or the same field errors both ways, so API clients never see the difference.
"""

from __future__ import annotations

import itertools
import marshmallow as ma
import pytest
from frontdesk.api.schemas import TicketCreateSchema, plain_ticket_create

VALUES = [None, True, False, 0, 1, -5, 2**70, 1.5, "", "x", "normal", "urgent", "NORMAL", [], ["a"], {}, {"email": "a@b.c"},
          {"email": "a@b.c", "name": "N"}, {"email": "a@b.c", "name": None}, {"email": 1}, {"name": "x"},
          {"email": "a@b.c", "name": "N", "x": 1}, {"email": "a@b.c", "other": 1}]
KEYS = ["subject", "body_text", "body_html", "status", "customer", "customer_id", "queue", "priority", "tags", "language"]


def full(data):
    try:
        return ("ok", ma.Schema.load(TicketCreateSchema(), data))
    except ma.ValidationError as exc:
        return ("err", exc.normalized_messages())


def ours(data):
    try:
        return ("ok", TicketCreateSchema().load(data))
    except ma.ValidationError as exc:
        return ("err", exc.normalized_messages())


def test_each_field_value_gives_what_marshmallow_gives(app):
    with app.test_request_context():
        for key, value in itertools.product(KEYS, VALUES):
            for base in ({}, {"subject": "s"}, {"subject": "s", "customer": {"email": "e@x.y"}}, {"subject": "s", "customer_id": 3}):
                data = dict(base)
                data[key] = value
                assert ours(data) == full(data), data
                plain = plain_ticket_create(data)
                if plain is not None:
                    assert ("ok", plain) == full(data), data


def test_pairs_of_field_values_give_what_marshmallow_gives(app):
    with app.test_request_context():
        for (k1, v1), (k2, v2) in itertools.combinations(itertools.product(KEYS[:8], VALUES[::3]), 2):
            data = {"subject": "s", k1: v1, k2: v2}
            assert ours(data) == full(data), data


def test_bodies_that_are_not_objects_give_marshmallows_errors(app):
    with app.test_request_context():
        for data in ([], "x", 1, None, [{"subject": "s"}]):
            assert ours(data) == full(data)


def test_bench_shape_takes_the_plain_path():
    data = {"subject": "s", "body_text": "b", "customer": {"email": "a@b.c", "name": "C"}, "queue": "support"}
    assert plain_ticket_create(data) == data
