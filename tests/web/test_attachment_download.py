"""Attachment downloads from the desk: files, never pages; only for agents who see the ticket."""

from __future__ import annotations

import re
from typing import Any

import pytest

from frontdesk.channels.base import IncomingAttachment
from frontdesk.testing import login


def ticket_with(make_ticket: Any, *files: IncomingAttachment, **kwargs: Any) -> Any:
    return make_ticket(attachments=list(files), **kwargs)


def link_of(html: str, filename: str) -> str:
    found = re.search(
        r'<a href="(/desk/attachments/\d+/[^"]+)" download>' + re.escape(filename), html
    )
    assert found, f"no download link for {filename}"
    return found.group(1)


@pytest.mark.parametrize(
    ("filename", "media_type", "served_as"),
    [
        ("page.html", "text/html", "application/octet-stream"),
        ("logo.svg", "image/svg+xml", "application/octet-stream"),
        ("feed.xml", "application/xml", "application/octet-stream"),
        ("run.js", "text/javascript", "application/octet-stream"),
        ("sneaky.html", "text/plain", "application/octet-stream"),  # the name decides too
        ("photo.png", "image/png", "image/png"),
        ("notes.txt", "text/plain", "text/plain"),
    ],
)
def test_attachments_are_served_as_downloads_with_nosniff(
    agent_client: Any, make_ticket: Any, filename: str, media_type: str, served_as: str
) -> None:
    data = b"<html><script>alert(1)</script></html>"
    ticket = ticket_with(make_ticket, IncomingAttachment(filename, data, media_type))
    html = agent_client.get(f"/desk/tickets/{ticket.number}").get_data(as_text=True)

    response = agent_client.get(link_of(html, filename))

    assert response.status_code == 200 and response.data == data
    assert response.mimetype == served_as
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert filename in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_non_ascii_name_survives_the_download(agent_client: Any, make_ticket: Any) -> None:
    ticket = ticket_with(
        make_ticket, IncomingAttachment("گزارش ماه.pdf", b"%PDF", "application/pdf")
    )
    attachment = ticket.messages[0].attachments[0]

    response = agent_client.get(f"/desk/attachments/{attachment.id}/{attachment.filename}")

    assert response.status_code == 200
    assert "filename*=UTF-8''%DA%AF" in response.headers["Content-Disposition"]


def test_a_wrong_name_in_the_address_leads_to_the_right_one(
    agent_client: Any, make_ticket: Any
) -> None:
    ticket = ticket_with(make_ticket, IncomingAttachment("a.txt", b"a", "text/plain"))
    attachment = ticket.messages[0].attachments[0]

    response = agent_client.get(f"/desk/attachments/{attachment.id}/other.txt")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/desk/attachments/{attachment.id}/a.txt")


def test_only_agents_who_see_the_ticket_get_the_file(
    app: Any, client: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    insider, outsider = make_agent(), make_agent()
    ticket = ticket_with(
        make_ticket,
        IncomingAttachment("secret.txt", b"s", "text/plain"),
        queue=make_queue(members=[insider]),
    )
    attachment = ticket.messages[0].attachments[0]
    address = f"/desk/attachments/{attachment.id}/secret.txt"

    assert login(app.test_client(), insider).get(address).status_code == 200
    assert login(app.test_client(), outsider).get(address).status_code == 404
    assert login(app.test_client(), ticket.customer).get(address).status_code == 403
    assert client.get(address).status_code == 302  # to the sign-in page
    assert (
        login(app.test_client(), insider).get("/desk/attachments/999999/x.txt").status_code == 404
    )
