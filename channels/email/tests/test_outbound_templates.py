"""Mail templates: admins override them through the API; they render in a sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.db import session
from frontdesk.services import create_ticket

from frontdesk_email.mailtemplates import KINDS
from frontdesk_email.models import EmailTemplate

URL = "/api/v1/email/templates"
ACK = {
    "subject": "Thanks, {{ customer.name }}: {{ ticket.subject }}",
    "body_text": "We got it ({{ ticket.number }}).\n\n{{ mailbox.name }}",
    "body_html": "<p>We got <em>it</em> ({{ ticket.number }}) for {{ customer.name }}.</p>",
}


def _stored() -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(EmailTemplate))


def test_every_kind_has_a_default_in_every_ui_language(api_client: Any) -> None:
    listing = api_client.get(URL).json

    have = {(i["kind"], i["locale"]) for i in listing["items"] if i["exists"]}
    assert {(k, lang) for k in KINDS for lang in ("en", "it", "ro", "ru", "fa")} <= have
    one = api_client.get(f"{URL}/reply/ro").json
    assert one["overridden"] is False and "message" in one["variables"]


def test_an_override_is_used_for_the_next_mail_and_can_be_dropped(
    api_client: Any, mailbox: Any, make_customer: Any, outbox: list[Any]
) -> None:
    saved = api_client.put(f"{URL}/acknowledgement/en", json=ACK)
    assert saved.status_code == 200 and saved.json["overridden"] is True

    customer = make_customer(name="Ana <script>")
    ticket = create_ticket(subject="Laptop", body_text="broken", customer=customer, channel="email")
    mail = outbox[-1].parsed()
    # The subject tag is added when an edited subject leaves it out.
    assert mail["Subject"] == f"[Ticket#{ticket.number}] Thanks, Ana <script>: Laptop"
    assert mail.get_body(("plain",)).get_content().startswith(f"We got it ({ticket.number}).")
    html = mail.get_body(("html",)).get_content()
    assert "<em>it</em>" in html and "Ana &lt;script&gt;" in html  # values are escaped

    assert api_client.delete(f"{URL}/acknowledgement/en").status_code == 204
    assert api_client.delete(f"{URL}/acknowledgement/en").status_code == 404
    create_ticket(subject="Again", body_text="…", customer=make_customer(), channel="email")
    assert "We have received your request" in outbox[-1].parsed()["Subject"]


@pytest.mark.parametrize(
    ("field", "source", "words"),
    [
        ("body_text", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("body_text", "{{ customer.password_hash }}", "password_hash"),
        ("subject", "{{ ticket.subject ", "TemplateSyntaxError"),
        ("body_html", "{% for x in %}", "TemplateSyntaxError"),
        ("body_text", "{{ config }}", "config"),
    ],
)
def test_templates_that_break_out_or_do_not_render_are_refused(
    api_client: Any, field: str, source: str, words: str
) -> None:
    response = api_client.put(f"{URL}/acknowledgement/it", json={**ACK, field: source})

    assert response.status_code == 422, response.json
    assert words in " ".join(response.json["errors"][field])
    assert _stored() == 0


def test_unknown_kinds_locales_and_fields_are_refused(api_client: Any) -> None:
    assert api_client.get(f"{URL}/farewell/en").status_code == 404
    assert api_client.put(f"{URL}/reply/../../etc", json=ACK).status_code == 404
    assert api_client.put(f"{URL}/reply/en", json={**ACK, "footer": "x"}).status_code == 422
    assert api_client.put(f"{URL}/reply/en", json={"subject": "only"}).status_code == 422
    assert _stored() == 0


def test_a_new_locale_can_be_added_and_is_picked_for_its_customers(
    api_client: Any, mailbox: Any, make_customer: Any, outbox: list[Any]
) -> None:
    assert api_client.get(f"{URL}/acknowledgement/de").status_code == 404
    api_client.put(
        f"{URL}/acknowledgement/de", json={**ACK, "subject": "Danke: {{ ticket.subject }}"}
    )

    create_ticket(
        subject="Drucker", body_text="…", customer=make_customer(language="de"), channel="email"
    )

    assert "Danke: Drucker" in outbox[-1].parsed()["Subject"]


def test_preview_renders_a_draft_with_example_data(api_client: Any) -> None:
    preview = api_client.post(f"{URL}/status_change/ru/preview", json={})
    draft = api_client.post(
        f"{URL}/reply/en/preview",
        json={
            "subject": "{{ subject_tag }} {{ ticket.subject }}",
            "body_text": "{{ message.text }}",
            "body_html": "{{ message.html }}<hr>",
        },
    )

    assert preview.status_code == 200 and "FD-1042" in preview.json["subject"]
    assert draft.json["subject"] == "[Ticket#FD-1042] Printer on floor 2 is offline"
    assert "<p>Hello Ana,</p><hr>" in draft.json["html"]


def test_only_admins_edit_templates(agent_client: Any) -> None:
    assert agent_client.get(URL).status_code == 403
