"""The admin API over inbound mail: outcomes with filters, one record, raw download, re-run."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import (  # noqa: E402,F401
    email_settings,
    ingest,
    make_mail,
    make_plain_mailbox,
    no_acknowledgements,
    ticket_count,
)

from frontdesk.db import clock_at, utcnow  # noqa: E402
from frontdesk.testing import login  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_acknowledgements")
URL = "/api/v1/email/inbound"


@pytest.fixture
def recorded(ingest, make_plain_mailbox):
    """Five recorded messages: three created, one dropped, one rejected, over two mailboxes."""
    sales = make_plain_mailbox(key="sales")
    with clock_at(utcnow() - timedelta(days=3)):
        old = ingest(make_mail(sender="old@example.com"))
    made = {
        "old": old,
        "ann": ingest(make_mail(sender="ann@example.com"), mailbox=sales),
        "bob": ingest(make_mail(sender="bob@example.com")),
        "auto": ingest(make_mail(sender="ooo@example.com", headers={"X-Autoreply": "yes"})),
        "junk": ingest(b"no headers at all"),
    }
    return made


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_recent_outcomes_newest_first_with_filters(api_client, recorded):
    everything = ids(api_client.get(URL))
    assert everything == sorted((r.id for r in recorded.values()), reverse=True)
    assert ids(api_client.get(f"{URL}?outcome=dropped")) == [recorded["auto"].id]
    assert ids(api_client.get(f"{URL}?mailbox=sales")) == [recorded["ann"].id]
    assert ids(api_client.get(f"{URL}?sender=bob@example.com")) == [recorded["bob"].id]
    since = (utcnow() - timedelta(days=1)).isoformat()
    assert recorded["old"].id not in ids(api_client.get(URL, query_string={"since": since}))
    assert ids(api_client.get(URL, query_string={"until": since})) == [recorded["old"].id]


def test_the_list_pages_with_a_cursor(api_client, recorded):
    first = api_client.get(f"{URL}?limit=2").get_json()
    second = api_client.get(f"{URL}?limit=2&before={first['next_before']}").get_json()
    third = api_client.get(f"{URL}?limit=2&before={second['next_before']}").get_json()
    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert seen == sorted((r.id for r in recorded.values()), reverse=True)
    assert third["next_before"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [("outcome=lost", "outcome"), ("since=yesterday", "since"), ("limit=0", "limit"),
     ("colour=red", "colour"), ("since=2025-01-01T00:00:00", "since")],
)
def test_bad_filters_are_refused_with_field_errors(api_client, query, field):
    response = api_client.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_one_record_with_its_ticket(api_client, recorded):
    body = api_client.get(f"{URL}/{recorded['ann'].id}").get_json()
    assert body["outcome"] == "created" and body["mailbox"] == "sales"
    assert body["sender"] == "ann@example.com" and body["ticket_number"].startswith("FD-")
    missing = api_client.get(f"{URL}/999999")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_the_raw_message_downloads_and_is_never_rendered(api_client, recorded):
    response = api_client.get(f"{URL}/{recorded['junk'].id}/raw")
    assert response.status_code == 200
    assert response.data == b"no headers at all"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_reprocess_records_a_new_outcome(api_client, recorded):
    response = api_client.post(f"{URL}/{recorded['bob'].id}/reprocess")
    assert response.status_code == 201
    body = response.get_json()
    assert body["outcome"] == "duplicate" and body["flags"] == {"reprocess_of": recorded["bob"].id}
    assert ticket_count() == 3


def test_a_cookie_session_must_send_the_csrf_header(app, admin, recorded):
    client = login(app.test_client(), admin)
    url = f"{URL}/{recorded['bob'].id}/reprocess"
    assert client.post(url).status_code == 403
    assert client.post(url, headers={"X-Requested-With": "frontdesk"}).status_code == 201


def test_only_admins_see_inbound_mail(client, agent_client, recorded):
    assert client.get(URL).status_code == 401
    assert agent_client.get(URL).status_code == 403
    assert agent_client.get(f"{URL}/{recorded['bob'].id}/raw").status_code == 403
    assert agent_client.post(f"{URL}/{recorded['bob'].id}/reprocess").status_code == 403


def test_a_record_whose_raw_bytes_are_gone_says_so(api_client, db):
    from frontdesk.db import transaction
    from frontdesk_email.models import InboundRecord

    with transaction():
        record = InboundRecord(raw_sha256="0" * 64, outcome="rejected", reason="x", flags={})
        db.add(record)
    raw = api_client.get(f"{URL}/{record.id}/raw")
    assert raw.status_code == 410 and raw.mimetype == "application/problem+json"
    again = api_client.post(f"{URL}/{record.id}/reprocess")
    assert again.status_code == 409
    assert again.get_json()["detail"] == f"the raw bytes of inbound message #{record.id} are missing"
    assert db.query(InboundRecord).count() == 1
