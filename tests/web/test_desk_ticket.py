"""The agent ticket page: the thread, folded quotes, history, sidebar, hooks, and who may see it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import Markup

from frontdesk.channels.base import IncomingAttachment
from frontdesk.plugins import hookimpl
from frontdesk.services import add_message, add_note, change_status, reply
from frontdesk.testing import login
from frontdesk.ui import Action, Panel


def page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def article_kinds(html: str) -> list[tuple[str, str]]:
    """(css kind, message id) of each message of the thread, in page order."""
    return re.findall(r'<article class="message (kind-[a-z]+)" id="m(\d+)"', html)


def test_the_thread_shows_every_kind_of_message_distinctly_and_in_order(
    agent_client: Any, agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket(subject="Printer on fire", body_text="It is burning.")
    answer = reply(ticket, "Please unplug it.", agent)
    note = add_note(ticket, "Customer sounds calm, low risk.", agent)
    follow_up = reply(ticket, "Unplugged, still smoking.", ticket.customer)
    change_status(ticket, "pending", agent)

    html = page(agent_client.get(f"/desk/tickets/{ticket.number}"))

    first = ticket.messages[0]
    assert article_kinds(html) == [
        ("kind-customer", str(first.id)),
        ("kind-agent", str(answer.id)),
        ("kind-internal", str(note.id)),
        ("kind-customer", str(follow_up.id)),
    ]
    assert "Internal note" in html and "Customer sounds calm, low risk." in html
    assert "Printer on fire" in html and ticket.customer.name in html
    assert f'href="/desk/customers/{ticket.customer.id}"' in html
    history = html[html.index('id="history"') :]
    assert "changed Status" in history  # the timeline has the status change
    assert "<script>" not in html and " style=" not in html and " onclick=" not in html


def test_the_page_root_carries_what_the_realtime_script_needs(
    agent_client: Any, make_ticket: Any, agent: Any
) -> None:
    ticket = make_ticket()
    answer = reply(ticket, "Hello", agent)
    add_note(ticket, "a later note does not count as the last public message", agent)

    html = page(agent_client.get(f"/desk/tickets/{ticket.number}"))

    assert f'data-ticket-id="{ticket.id}"' in html
    assert f'data-ticket-version="{ticket.version}"' in html
    assert f'data-last-message-id="{answer.id}"' in html
    assert '<div id="presence" class="presence" aria-live="polite"></div>' in html
    assert 'src="/static/js/ticket.js"' in html


def test_hostile_values_render_as_text(
    agent_client: Any, make_ticket: Any, make_customer: Any, make_queue: Any, agent: Any
) -> None:
    queue = make_queue(
        members=[agent], custom_fields=[{"key": "ref", "label": "<i>Ref</i>", "type": "text"}]
    )
    customer = make_customer(name='<script>alert("name")</script>')
    ticket = make_ticket(
        subject='<script>alert("subject")</script>',
        body_text='<img src=x onerror=alert("body")>',
        customer=customer,
        queue=queue,
        tags=['<b onmouseover="alert(1)">tag'],
        custom_fields={"ref": '"><script>alert("field")</script>'},
        attachments=[IncomingAttachment('"><svg onload=alert(1)>.html', b"<script>x</script>")],
    )
    add_message(
        ticket,
        kind="customer",
        body_html='<p>fine</p><script>alert("html")</script><a href="javascript:alert(1)">x</a>',
        author=customer,
        actor=customer,
    )

    html = page(agent_client.get(f"/desk/tickets/{ticket.number}"))

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#34;body&#34;)&gt;" in html
    assert "<svg" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "javascript:" not in html
    assert "<p>fine</p>" in html  # sanitised HTML keeps its formatting
    assert "&lt;i&gt;Ref&lt;/i&gt;" in html


def test_quoted_text_and_signatures_are_folded_and_the_threading_reason_shown(
    agent_client: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()
    text = "Thanks, that worked.\n-- \nAnn, Accounts\nOn Mon, Bob wrote:\n> try restarting\n"
    add_message(
        ticket,
        kind="customer",
        body_text=text,
        body_html="<p>Thanks, that worked.</p>",
        author=ticket.customer,
        actor=ticket.customer,
        channel="email",
        external_id="<m1@example.test>",
        meta={
            "threaded_by": "threaded by References <out-1@desk.example>",
            "signature_start": text.index("-- "),
            "quote_start": text.index("On Mon"),
        },
    )

    html = page(agent_client.get(f"/desk/tickets/{ticket.number}"))

    assert "threaded by References &lt;out-1@desk.example&gt;" in html
    assert re.search(r'<div class="body-text">Thanks, that worked\.\n</div>', html)
    assert re.search(r'<details class="quoted signature">.*?Ann, Accounts', html, re.DOTALL)
    assert re.search(r'<details class="quoted"><summary>[^<]+</summary><div class="body-text">'
                     r"On Mon, Bob wrote:\n&gt; try restarting", html)  # fmt: skip
    assert '<details class="formatted">' in html  # the HTML version stays one click away


def test_custom_fields_links_watchers_and_tags_are_in_the_sidebar(
    agent_client: Any, make_ticket: Any, make_queue: Any, agent: Any
) -> None:
    from frontdesk.services import add_watcher, link_tickets

    queue = make_queue(
        members=[agent],
        custom_fields=[
            {"key": "plan", "label": "Plan", "type": "choice", "choices": ["free", "pro"]},
            {"key": "seats", "label": "Seats", "type": "number"},
        ],
    )
    ticket = make_ticket(queue=queue, custom_fields={"plan": "pro", "seats": 12}, tags=["vip"])
    other = make_ticket(subject="Earlier outage")
    link_tickets(ticket, other, "related", agent)
    add_watcher(ticket, agent, agent)

    html = page(agent_client.get(f"/desk/tickets/{ticket.number}"))

    assert '<option value="pro" selected>pro</option>' in html
    assert 'name="cf.seats"' in html and 'value="12"' in html
    assert f'href="/desk/tickets/{other.number}">{other.number}</a> Earlier outage' in html
    assert "Stop watching" in html and agent.name in html
    assert '<li class="badge tag">vip' in html


def test_plugins_add_slots_actions_and_panels_and_a_broken_panel_is_left_out(
    agent_client: Any, make_ticket: Any, plugins: Any
) -> None:
    class Extras:
        @hookimpl
        def template_slot(self, name: str, context: dict[str, Any]) -> Any:
            if name in ("desk.ticket.header", "desk.ticket.sidebar"):
                return Markup('<p class="from-plugin">%s for %s</p>') % (
                    name,
                    context["ticket"].number,
                )
            return None

        @hookimpl
        def ticket_actions(self, ticket: Any, actor: Any) -> list[Action]:
            return [Action("escalate", "Escalate", "desk.ticket_watch"),
                    Action("ghost", "Ghost", "no.such_endpoint")]  # fmt: skip

        @hookimpl
        def ticket_sidebar_panels(self, ticket: Any, actor: Any) -> list[Panel]:
            return [Panel("broken", "Broken", "no/such/template.html")]

    plugins.register(Extras())
    ticket = make_ticket()

    html = page(agent_client.get(f"/desk/tickets/{ticket.number}"))

    assert f'<p class="from-plugin">desk.ticket.header for {ticket.number}</p>' in html
    assert f'<p class="from-plugin">desk.ticket.sidebar for {ticket.number}</p>' in html
    assert 'data-action="escalate">Escalate</button>' in html and "Ghost" not in html
    assert "Broken" not in html


def test_an_agent_of_another_team_gets_404(
    app: Any, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    insider, outsider = make_agent(), make_agent()
    queue = make_queue(members=[insider])
    make_queue(members=[outsider])
    ticket = make_ticket(queue=queue)

    assert (
        login(app.test_client(), insider).get(f"/desk/tickets/{ticket.number}").status_code == 200
    )
    assert (
        login(app.test_client(), outsider).get(f"/desk/tickets/{ticket.number}").status_code == 404
    )
    assert login(app.test_client(), outsider).get("/desk/tickets/NO-SUCH").status_code == 404


def test_customers_and_strangers_do_not_get_the_agent_page(
    portal_client: Any, client: Any, make_ticket: Any, customer: Any
) -> None:
    ticket = make_ticket(customer=customer)

    assert portal_client.get(f"/desk/tickets/{ticket.number}").status_code == 403
    anonymous = client.get(f"/desk/tickets/{ticket.number}")
    assert anonymous.status_code == 302 and "/signin" in anonymous.headers["Location"]


@pytest.mark.parametrize("language", ["en", "it", "ro", "ru", "fa"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tehran", "America/New_York"])
def test_thread_times_read_exactly_like_the_datetime_filter(
    app: Any, make_agent: Any, language: str, zone: str
) -> None:
    from datetime import UTC, datetime

    import flask_babel
    from flask import request

    from frontdesk.i18n import format_datetime
    from frontdesk.web.desk.ticket import short_datetimes

    reader = make_agent(language=language, timezone=zone)
    moments = [datetime(2025, 3, 20, 20, 45, tzinfo=UTC), datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
               datetime(2025, 7, 1, 4, 5, tzinfo=UTC)]  # fmt: skip
    with app.test_request_context("/desk/"):
        request.frontdesk_actor = reader
        flask_babel.refresh()
        with flask_babel.force_locale(language):
            when = short_datetimes()
            assert [when(m) for m in moments] == [format_datetime(m, "short") for m in moments]
