"""Admin pages of the email channel: mailboxes with a connection test, inbound outcomes."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from frontdesk.db import clock_at, utcnow  # noqa: E402
from frontdesk_email.models import InboundRecord, Mailbox  # noqa: E402
from inbound_helpers import (  # noqa: E402,F401
    email_settings,
    ingest,
    make_mail,
    make_plain_mailbox,
    no_acknowledgements,
)

pytestmark = pytest.mark.usefixtures("no_acknowledgements")
BOXES = "/admin/email/mailboxes"
INBOUND = "/admin/email/inbound"


def submit(client: Any, url: str, data: dict[str, Any] | None = None) -> Any:
    """POST a form as a browser does: with the CSRF token the pages carry."""
    page = client.get("/admin/email/mailboxes").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def stored(key: str, db: Any) -> Mailbox | None:
    db.expire_all()
    return db.scalar(select(Mailbox).where(Mailbox.key == key))


@pytest.fixture
def form(imap_account: Any, smtp_servers: Any, make_queue: Any) -> dict[str, Any]:
    """The mailbox form filled in for the test Dovecot and aiosmtpd."""
    make_queue(key="billing", name="Billing")
    return {
        "key": "billing",
        "name": "Billing desk",
        "from_address": "billing@frontdesk.test",
        "default_queue": "billing",
        "default_language": "it",
        "is_active": "1",
        "imap_host": "127.0.0.1",
        "imap_port": str(imap_account.port),
        "imap_tls": "none",
        "imap_username": imap_account.user,
        "imap_password": imap_account.password,
        "imap_folder": "INBOX",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp_servers.port("plain")),
        "smtp_tls": "none",
        "smtp_username": smtp_servers.user,
        "smtp_password": smtp_servers.password,
    }


# --- Mailboxes ----------------------------------------------------------------------------------


def test_an_admin_creates_a_mailbox_whose_connection_test_passes(
    admin_client: Any, form: dict[str, Any], imap_account: Any, smtp_servers: Any, db: Any
) -> None:
    created = submit(admin_client, f"{BOXES}/new", form)

    assert created.status_code == 302 and created.headers["Location"] == f"{BOXES}/billing"
    mailbox = stored("billing", db)
    assert mailbox.default_queue.key == "billing" and mailbox.default_language == "it"
    assert mailbox.imap_password == imap_account.password
    edit = page(admin_client.get(f"{BOXES}/billing"))
    listing = page(admin_client.get(BOXES))
    for body in (edit, listing):
        assert imap_account.password not in body and smtp_servers.password not in body
    assert "billing@frontdesk.test" in listing

    result = page(submit(admin_client, f"{BOXES}/billing/test"))

    assert "The connection test passed." in result
    imap = re.search(r'data-protocol="imap">(.*?)</div>', result, re.DOTALL).group(1)
    assert "Works." in imap and "connect, log in, open the folder" in imap
    smtp = re.search(r'data-protocol="smtp">(.*?)</div>', result, re.DOTALL).group(1)
    assert "connect, EHLO greeting, authenticate" in smtp
    assert imap_account.password not in result and smtp_servers.password not in result


def test_a_wrong_password_is_reported_with_the_servers_answer(
    admin_client: Any, form: dict[str, Any], imap_account: Any, db: Any
) -> None:
    submit(admin_client, f"{BOXES}/new", {**form, "imap_password": "wrong-imap-password"})

    result = page(submit(admin_client, f"{BOXES}/billing/test"))

    assert "The connection test failed." in result
    imap = re.search(r'data-protocol="imap">(.*?)</div>', result, re.DOTALL).group(1)
    assert "Failed at step “log in”" in imap and "AUTHENTICATIONFAILED" in imap
    assert "wrong-imap-password" not in result
    smtp = re.search(r'data-protocol="smtp">(.*?)</div>', result, re.DOTALL).group(1)
    assert "Works." in smtp  # the other half is judged on its own


def test_a_wrong_smtp_password_names_the_auth_step(
    admin_client: Any, form: dict[str, Any], db: Any
) -> None:
    submit(admin_client, f"{BOXES}/new", {**form, "smtp_password": "wrong-smtp-password"})

    result = page(submit(admin_client, f"{BOXES}/billing/test"))

    smtp = re.search(r'data-protocol="smtp">(.*?)</div>', result, re.DOTALL).group(1)
    assert "Failed at step “authenticate”" in smtp and "535" in smtp


def test_an_empty_password_field_keeps_the_stored_password(
    admin_client: Any, form: dict[str, Any], imap_account: Any, smtp_servers: Any, db: Any
) -> None:
    submit(admin_client, f"{BOXES}/new", form)
    change = {**form, "name": "Invoices", "imap_password": "", "smtp_password": ""}

    saved = submit(admin_client, f"{BOXES}/billing", change)

    assert saved.status_code == 302
    mailbox = stored("billing", db)
    assert mailbox.name == "Invoices"
    assert mailbox.imap_password == imap_account.password
    assert mailbox.smtp_password == smtp_servers.password


def test_removing_a_password_that_is_still_needed_is_refused(
    admin_client: Any, form: dict[str, Any], imap_account: Any, db: Any
) -> None:
    submit(admin_client, f"{BOXES}/new", form)

    body = page(submit(admin_client, f"{BOXES}/billing", {**form, "clear_imap_password": "1"}), 422)

    assert 'id="e-imap_password"' in body and "required when an IMAP host is set" in body
    assert stored("billing", db).imap_password == imap_account.password


def test_moving_the_mailbox_to_another_folder_restarts_its_uid_bookkeeping(
    admin_client: Any, form: dict[str, Any], db: Any
) -> None:
    from frontdesk.db import transaction

    submit(admin_client, f"{BOXES}/new", form)
    with transaction():
        mailbox = stored("billing", db)
        mailbox.uidvalidity, mailbox.last_uid = 1700000000, 42

    submit(admin_client, f"{BOXES}/billing", {**form, "name": "Renamed", "imap_password": ""})
    kept = stored("billing", db)
    assert (kept.uidvalidity, kept.last_uid) == (1700000000, 42)

    submit(admin_client, f"{BOXES}/billing", {**form, "imap_folder": "Support"})
    moved = stored("billing", db)
    assert (moved.uidvalidity, moved.last_uid) == (None, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"imap_tls": "ssl", "imap_port": "143"}, "imap_tls"),
        ({"smtp_port": "seventy"}, "smtp_port"),
        ({"from_address": "not an address"}, "from_address"),
        ({"imap_host": "imaps://mail.example.com"}, "imap_host"),
        ({"default_queue": "nope"}, "default_queue"),
        ({"key": "Has Spaces"}, "key"),
    ],
)
def test_bad_settings_come_back_with_the_error_and_what_was_typed(
    admin_client: Any, form: dict[str, Any], db: Any, change: dict[str, str], field: str
) -> None:
    body = page(submit(admin_client, f"{BOXES}/new", {**form, **change}), 422)

    assert f'id="e-{field}"' in body
    assert 'value="Billing desk"' in body
    assert form["imap_password"] not in body  # typed passwords are not echoed either
    assert db.scalar(select(Mailbox)) is None


def test_a_taken_key_is_refused(admin_client: Any, form: dict[str, Any], db: Any) -> None:
    submit(admin_client, f"{BOXES}/new", form)

    body = page(submit(admin_client, f"{BOXES}/new", {**form, "name": "Second"}), 422)

    assert "A mailbox with this key exists already." in body and 'value="Second"' in body


def test_hostile_mailbox_names_render_as_text(admin_client: Any, make_plain_mailbox: Any) -> None:
    make_plain_mailbox(key="evil", name="<script>alert(1)</script>")

    for url in (BOXES, f"{BOXES}/evil"):
        body = page(admin_client.get(url))
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


# --- Inbound outcomes ---------------------------------------------------------------------------


@pytest.fixture
def recorded(ingest: Any, make_plain_mailbox: Any) -> dict[str, InboundRecord]:
    """Four messages over two mailboxes: two tickets, one auto-reply dropped, one rejected."""
    sales = make_plain_mailbox(key="sales")
    with clock_at(utcnow() - timedelta(days=3)):
        old = ingest(make_mail(sender="old@example.com", subject="Old <b>news</b>"))
    return {
        "old": old,
        "ann": ingest(make_mail(sender="ann@example.com"), mailbox=sales),
        "auto": ingest(make_mail(sender="ooo@example.com", headers={"X-Autoreply": "yes"})),
        "junk": ingest(b"no headers at all"),
    }


def listed(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-record="(\d+)">', body)]


def test_recent_outcomes_are_listed_newest_first_with_filters(
    admin_client: Any, recorded: dict[str, InboundRecord]
) -> None:
    ids = {name: r.id for name, r in recorded.items()}
    everything = page(admin_client.get(INBOUND))
    assert listed(everything) == sorted(ids.values(), reverse=True)
    assert "Old &lt;b&gt;news&lt;/b&gt;" in everything and "<b>news" not in everything

    assert listed(page(admin_client.get(f"{INBOUND}?outcome=dropped"))) == [ids["auto"]]
    assert listed(page(admin_client.get(f"{INBOUND}?mailbox=sales"))) == [ids["ann"]]
    assert listed(page(admin_client.get(f"{INBOUND}?sender=ANN@example"))) == [ids["ann"]]
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    recent = listed(page(admin_client.get(f"{INBOUND}?since={yesterday}")))
    assert ids["old"] not in recent and len(recent) == 3
    assert listed(page(admin_client.get(f"{INBOUND}?until={yesterday}"))) == [ids["old"]]


def test_bad_filters_are_shown_not_obeyed(admin_client: Any, recorded: Any) -> None:
    body = page(admin_client.get(f"{INBOUND}?outcome=lost&since=yesterday"), 422)

    assert 'id="e-outcome"' in body and 'id="e-since"' in body
    assert 'value="yesterday"' in body and listed(body) == []


def test_the_list_pages_back_to_older_mail(admin_client: Any, db: Any) -> None:
    from frontdesk.db import transaction

    with transaction():
        db.add_all(InboundRecord(outcome="rejected", reason="r", flags={}) for _ in range(55))

    first = page(admin_client.get(f"{INBOUND}?outcome=rejected"))
    older = re.search(r'href="(/admin/email/inbound\?[^"]+)">Older messages', first).group(1)
    second = page(admin_client.get(older.replace("&amp;", "&")))

    assert len(listed(first)) == 50 and len(listed(second)) == 5
    assert max(listed(second)) < min(listed(first))
    assert "Older messages" not in second


def test_only_rejected_and_dropped_mail_offers_re_processing(
    admin_client: Any, recorded: dict[str, InboundRecord]
) -> None:
    body = page(admin_client.get(INBOUND))

    buttons = {int(n) for n in re.findall(r"/admin/email/inbound/(\d+)/reprocess", body)}
    assert buttons == {recorded["auto"].id, recorded["junk"].id}


def test_re_processing_records_a_new_outcome_like_the_cli(
    admin_client: Any, recorded: dict[str, InboundRecord], db: Any
) -> None:
    junk = recorded["junk"]

    response = submit(admin_client, f"{INBOUND}/{junk.id}/reprocess")

    db.expire_all()
    fresh = db.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()
    assert fresh.id != junk.id and fresh.flags["reprocess_of"] == junk.id
    assert fresh.source == "reprocess" and fresh.outcome == "rejected"
    assert response.headers["Location"] == f"{INBOUND}/{fresh.id}"
    detail = page(admin_client.get(response.headers["Location"]))
    assert "Processed again: rejected." in detail
    assert f'href="{INBOUND}/{junk.id}"' in detail  # links back to the original


def test_the_raw_message_is_plain_text_that_never_runs(
    admin_client: Any, ingest: Any, db: Any
) -> None:
    raw = make_mail(subject="<script>x</script>", html="<script>alert(1)</script><p>hi</p>")
    record = ingest(raw)

    shown = admin_client.get(f"{INBOUND}/{record.id}/raw")
    saved = admin_client.get(f"{INBOUND}/{record.id}/raw?download=1")

    assert shown.status_code == 200 and shown.data == raw
    assert shown.mimetype == "text/plain"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    assert saved.headers["Content-Disposition"] == f'attachment; filename="inbound-{record.id}.txt"'


def test_the_admin_area_links_the_email_pages(admin_client: Any) -> None:
    body = page(admin_client.get("/admin/"))

    assert f'href="{BOXES}"' in body and f'href="{INBOUND}"' in body


def test_agents_who_are_not_admins_are_refused(
    agent_client: Any, recorded: dict[str, InboundRecord], make_plain_mailbox: Any
) -> None:
    make_plain_mailbox(key="support")
    record = recorded["junk"].id
    for url in (
        BOXES,
        f"{BOXES}/new",
        f"{BOXES}/support",
        INBOUND,
        f"{INBOUND}/{record}",
        f"{INBOUND}/{record}/raw",
    ):
        assert agent_client.get(url).status_code == 403, url
    for url in (
        f"{BOXES}/new",
        f"{BOXES}/support",
        f"{BOXES}/support/test",
        f"{INBOUND}/{record}/reprocess",
    ):
        assert submit(agent_client, url, {"key": "x"}).status_code == 403, url
