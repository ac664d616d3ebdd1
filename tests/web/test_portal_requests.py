"""The customer's requests in the portal: the list, one request's thread, replies, files, states."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session
from frontdesk.models import Message, Ticket
from frontdesk.plugins import PluginInfo
from frontdesk.services import (
    add_message,
    add_note,
    change_status,
    merge_tickets,
    reply,
    update_user,
)
from frontdesk.testing.helpers import login, post_form

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _reload(ticket: Ticket) -> Ticket:
    session.rollback()
    return session.get(Ticket, ticket.id)


# --- The list -------------------------------------------------------------------------------


def test_the_list_shows_only_the_customers_own_requests(portal_client, customer, make_ticket):
    mine = make_ticket(customer=customer, subject="My laptop will not boot")
    make_ticket(subject="Someone else's invoice question")
    page = portal_client.get("/en/portal/requests")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "My laptop will not boot" in text and mine.number in text
    assert "invoice question" not in text
    assert "New" in text  # the status label
    assert "1 request" in text


def test_the_list_filters_by_state_and_pages(portal_client, customer, make_ticket, agent):
    tickets = [make_ticket(customer=customer, subject=f"Request number {n:02d}") for n in range(23)]
    change_status(tickets[0], "solved", agent)
    first = portal_client.get("/en/portal/requests").get_data(as_text=True)
    assert "Request number 00" in first  # changed last: on top
    assert "Page 1 of 2" in first and "Request number 01" not in first
    second = portal_client.get("/en/portal/requests?page=2").get_data(as_text=True)
    assert "Request number 01" in second and "Request number 22" not in second
    done = portal_client.get("/en/portal/requests?state=done").get_data(as_text=True)
    assert "Request number 00" in done and "Request number 05" not in done
    assert "Solved" in done
    open_ = portal_client.get("/en/portal/requests?state=open").get_data(as_text=True)
    assert "Request number 00" not in open_
    assert portal_client.get("/en/portal/requests?page=9").status_code == 404


def test_organization_members_see_each_others_requests_only_when_shared(
    app, make_organization, make_customer, make_ticket
):
    shared = make_organization(name="Acme", shared_tickets=True)
    private = make_organization(name="Globex", shared_tickets=False)
    ana, bob = make_customer(organization=shared), make_customer(organization=shared)
    cy, dee = make_customer(organization=private), make_customer(organization=private)
    make_ticket(customer=bob, subject="Bob asks about the VPN")
    make_ticket(customer=dee, subject="Dee asks about payroll")

    ana_page = login(app.test_client(), ana).get("/en/portal/requests").get_data(as_text=True)
    assert "Bob asks about the VPN" in ana_page
    assert bob.name in ana_page  # who asked, as the list has a requester column
    mine_only = login(app.test_client(), ana).get("/en/portal/requests?scope=mine")
    assert "Bob asks about the VPN" not in mine_only.get_data(as_text=True)
    cy_client = login(app.test_client(), cy)
    assert "Dee asks about payroll" not in cy_client.get("/en/portal/requests").get_data(
        as_text=True
    )


# --- One request ----------------------------------------------------------------------------


def test_the_thread_never_shows_internal_notes_or_system_entries(
    portal_client, customer, make_ticket, agent
):
    ticket = make_ticket(customer=customer, subject="Printer offline", body_text="It blinks red.")
    reply(ticket, "Please switch it off and on again.", agent)
    add_note(ticket, "INTERNAL: this customer owes us money", agent)
    add_message(
        ticket, kind="system", body_text="SYSTEM: routed by rule 7", author=None, actor=None
    )
    page = portal_client.get(f"/en/portal/requests/{ticket.number}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "It blinks red." in text and "Please switch it off and on again." in text
    assert agent.name in text
    assert "INTERNAL" not in text and "owes us money" not in text
    assert "SYSTEM: routed" not in text
    assert agent.email not in text  # agents appear by name only
    for agent_only in ("Priority", "normal", "Assignee", "Queue"):
        assert agent_only not in text


def test_other_customers_requests_are_not_found(portal_client, make_ticket):
    other = make_ticket(subject="Not yours")
    for url in (
        f"/en/portal/requests/{other.number}",
        "/en/portal/requests/FD-999999",
    ):
        assert portal_client.get(url).status_code == 404
    for action in ("close", "reopen"):
        response = post_form(portal_client, f"/en/portal/requests/{other.number}/{action}")
        assert response.status_code == 404
    response = post_form(portal_client, f"/en/portal/requests/{other.number}", {"body": "hi"})
    assert response.status_code == 404
    assert len(_reload(other).messages) == 1


def test_hostile_html_renders_as_text(portal_client, customer, make_ticket, make_agent):
    agent = make_agent(name=HOSTILE)
    update_user(customer, name=HOSTILE)
    ticket = make_ticket(customer=customer, subject=HOSTILE, body_text=HOSTILE)
    reply(
        ticket,
        HOSTILE,
        agent,
        attachments=[IncomingAttachment(filename=HOSTILE + ".txt", data=b"x")],
    )
    for url in (
        "/en/portal/requests",
        f"/en/portal/requests/{ticket.number}",
        "/en/portal/",
        "/en/portal/profile",
    ):
        text = portal_client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in text
        assert "<img src=x" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_public_plugin_data_only(app, portal_client, customer, make_ticket, plugins):
    class Survey:
        plugin_info = PluginInfo(label="Survey", public_data=("rating",))

    plugins.register(Survey(), name="survey")
    ticket = make_ticket(customer=customer)
    from frontdesk.web.portal.tickets import public_plugin_data

    ticket.plugin_data = {"survey": {"rating": 5, "agent_score": 1}, "crm": {"id": "X-9"}}
    assert public_plugin_data(ticket) == {"survey": {"rating": 5}}


# --- Replying, closing, reopening -----------------------------------------------------------


def test_the_customer_replies_with_a_file(portal_client, customer, make_ticket):
    ticket = make_ticket(customer=customer)
    response = portal_client.post(
        f"/en/portal/requests/{ticket.number}",
        data={
            "csrf_token": _token(portal_client),
            "body": "Here is the screenshot.",
            "attachments": [(io.BytesIO(b"\x89PNG fake"), "screen shot.png", "image/png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/en/portal/requests/{ticket.number}#latest"
    ticket = _reload(ticket)
    last = ticket.messages[-1]
    assert (last.kind, last.author_id, last.body_text) == (
        "customer",
        customer.id,
        "Here is the screenshot.",
    )
    assert [a.filename for a in last.attachments] == ["screen shot.png"]
    page = portal_client.get(f"/en/portal/requests/{ticket.number}").get_data(as_text=True)
    assert "Here is the screenshot." in page and "screen shot.png" in page
    assert "Your reply is sent." in page


def test_an_empty_reply_is_refused_in_the_users_language(portal_client, customer, make_ticket):
    ticket = make_ticket(customer=customer)
    response = post_form(portal_client, f"/it/portal/requests/{ticket.number}", {"body": "   "})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert '<html lang="it"' in text and 'aria-invalid="true"' in text
    assert len(_reload(ticket).messages) == 1


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENT_BYTES": 1000}])
def test_an_oversized_file_gets_a_clear_message_and_the_text_is_kept(
    portal_client, customer, make_ticket
):
    ticket = make_ticket(customer=customer)
    response = portal_client.post(
        f"/en/portal/requests/{ticket.number}",
        data={
            "csrf_token": _token(portal_client),
            "body": "My long explanation <with> details",
            "attachments": [(io.BytesIO(b"x" * 5000), "big.log", "text/plain")],
        },
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "A file is too large" in text and "at most 1000 bytes" in text
    assert "My long explanation &lt;with&gt; details</textarea>" in text
    assert 'data-max-bytes="1000"' in text  # the script checks before uploading next time
    assert len(_reload(ticket).messages) == 1


def test_close_and_reopen(portal_client, customer, make_ticket):
    ticket = make_ticket(customer=customer)
    page = portal_client.get(f"/en/portal/requests/{ticket.number}").get_data(as_text=True)
    assert "Close the request" in page and "Reopen the request" not in page

    response = post_form(portal_client, f"/en/portal/requests/{ticket.number}/close")
    assert response.status_code == 302
    ticket = _reload(ticket)
    assert (ticket.status, ticket.status_category) == ("closed", "closed")
    page = portal_client.get(f"/en/portal/requests/{ticket.number}").get_data(as_text=True)
    assert "Reopen the request" in page and "Write a reply" not in page
    refused = post_form(portal_client, f"/en/portal/requests/{ticket.number}", {"body": "More"})
    assert refused.status_code == 409

    post_form(portal_client, f"/en/portal/requests/{ticket.number}/reopen")
    ticket = _reload(ticket)
    assert ticket.status_category == "open"
    assert "Write a reply" in portal_client.get(f"/en/portal/requests/{ticket.number}").get_data(
        as_text=True
    )


def test_a_reply_reopens_a_solved_request(portal_client, customer, make_ticket, agent):
    ticket = make_ticket(customer=customer)
    change_status(ticket, "solved", agent)
    post_form(portal_client, f"/en/portal/requests/{ticket.number}", {"body": "Still broken."})
    assert _reload(ticket).status_category == "open"


def test_a_merged_request_points_to_the_one_it_joined(portal_client, customer, make_ticket, agent):
    target = make_ticket(customer=customer, subject="Main request")
    source = make_ticket(customer=customer, subject="Duplicate")
    merge_tickets(source, target, agent)
    page = portal_client.get(f"/en/portal/requests/{source.number}").get_data(as_text=True)
    assert f'href="/en/portal/requests/{target.number}"' in page
    assert "Write a reply" not in page and "Reopen the request" not in page


# --- Downloads ------------------------------------------------------------------------------


def _attachment_of(ticket: Ticket, kind: str = "agent") -> int:
    message = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.kind == kind)
    ).first()
    return message.attachments[0].id


def test_attachments_download_as_files_never_as_pages(portal_client, customer, make_ticket, agent):
    ticket = make_ticket(customer=customer)
    payload = b"<html><script>alert(document.cookie)</script></html>"
    reply(
        ticket,
        "See the file.",
        agent,
        attachments=[IncomingAttachment("report \u00e9t\u00e9.html", payload, "text/html")],
    )
    url = f"/en/portal/requests/{ticket.number}/files/{_attachment_of(ticket)}"
    response = portal_client.get(url)
    assert response.status_code == 200
    assert response.data == payload
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''report%20%C3%A9t%C3%A9.html" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_harmless_types_keep_their_type(portal_client, customer, make_ticket, agent):
    ticket = make_ticket(customer=customer)
    reply(
        ticket, "Photo.", agent, attachments=[IncomingAttachment("a.png", b"\x89PNG", "image/png")]
    )
    response = portal_client.get(
        f"/en/portal/requests/{ticket.number}/files/{_attachment_of(ticket)}"
    )
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_files_of_notes_and_of_others_tickets_are_not_served(
    portal_client, customer, make_ticket, agent
):
    ticket = make_ticket(customer=customer)
    add_note(ticket, "internal file", agent, attachments=[IncomingAttachment("secret.txt", b"s")])
    note_file = _attachment_of(ticket, "internal_note")
    assert (
        portal_client.get(f"/en/portal/requests/{ticket.number}/files/{note_file}").status_code
        == 404
    )
    other = make_ticket(subject="Not yours")
    reply(other, "file", agent, attachments=[IncomingAttachment("theirs.txt", b"t")])
    their_file = _attachment_of(other)
    assert (
        portal_client.get(f"/en/portal/requests/{ticket.number}/files/{their_file}").status_code
        == 404
    )
    assert (
        portal_client.get(f"/en/portal/requests/{other.number}/files/{their_file}").status_code
        == 404
    )
    page = portal_client.get(f"/en/portal/requests/{ticket.number}").get_data(as_text=True)
    assert "secret.txt" not in page


def _token(client) -> str:
    from frontdesk.testing.helpers import csrf_token

    return csrf_token(client)
