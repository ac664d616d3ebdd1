"""Without an account a request waits for its sender to follow the emailed link."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from frontdesk.db import clock_at, utcnow
from frontdesk.models import Ticket, User
from frontdesk.testing import login, post_form
from frontdesk_webform.models import Submission, Upload
from frontdesk_webform.submissions import purge_expired


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def confirm(client, path: str):
    """Open the emailed link and press its button, as the recipient does."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:1000]
    return post_form(client, path)


def test_nothing_reaches_the_desk_before_the_link_is_followed(
    client, notices, submit, request_data, db
):
    attachment = (io.BytesIO(b"photo bytes"), "jam.jpg", "image/jpeg")
    response = submit(client, request_data(attachments=[attachment]))

    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert count(db, Ticket) == 0
    assert count(db, Submission) == 1
    [notice] = notices.sent
    assert notice["to"] == "ada@example.test"
    assert notice["kind"] == "request_verification"
    assert "The printer jams" in notice["subject"]
    assert notice["url"].startswith("http://frontdesk.test/en/portal/webform/verify/")
    assert notice["url"] in notice["text"] or "link" in notice["text"]

    # A mail scanner fetching the link (GET) confirms nothing.
    assert client.get(notices.link_path()).status_code == 200
    assert count(db, Ticket) == 0

    done = post_form(client, notices.link_path())
    assert done.status_code == 200
    ticket = db.scalars(select(Ticket)).one()
    assert ticket.number in done.get_data(as_text=True)
    assert ticket.channel == "webform"
    assert ticket.subject == "The printer jams"
    assert ticket.customer.email == "ada@example.test"
    assert ticket.customer.name == "Ada Lovelace"
    assert [a.filename for a in ticket.messages[0].attachments] == ["jam.jpg"]
    assert count(db, Upload) == 0, "the files moved to the ticket"


def test_the_link_works_once(client, notices, submit, request_data, db):
    submit(client, request_data())
    path = notices.link_path()
    first = confirm(client, path)
    again = post_form(client, path)
    assert first.status_code == again.status_code == 200
    assert "already confirmed" in again.get_data(as_text=True)
    assert "already confirmed" in client.get(path).get_data(as_text=True)
    assert count(db, Ticket) == 1


def test_two_clicks_at_the_same_moment_open_one_ticket(
    app, client, notices, submit, request_data, db
):
    submit(client, request_data())
    path = notices.link_path()
    clients = [app.test_client(), app.test_client()]
    for each in clients:
        each.get(path)  # a session (and its CSRF token) per browser tab
    start = threading.Barrier(2, timeout=30)
    answers: list[int] = []

    def press(each):
        start.wait()
        answers.append(post_form(each, path).status_code)

    threads = [threading.Thread(target=press, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200, 200]
    db.rollback()  # end this thread's read snapshot: the tickets were written by the others
    assert count(db, Ticket) == 1


def test_an_expired_link_opens_nothing(client, notices, submit, request_data, db):
    submit(client, request_data())
    path = notices.link_path()
    with clock_at(utcnow() + timedelta(hours=48, minutes=1)):
        page = client.get(path)
        assert page.status_code == 410
        assert "expired" in page.get_data(as_text=True)
        assert post_form(client, path).status_code == 410
    assert count(db, Ticket) == 0


def test_a_tampered_link_opens_nothing(client, notices, submit, request_data, db):
    submit(client, request_data())
    path = notices.link_path()
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.get(tampered).status_code == 410
    assert post_form(client, tampered).status_code == 410
    assert post_form(client, "/en/portal/webform/verify/").status_code == 404
    assert count(db, Ticket) == 0


@pytest.mark.parametrize("app_config", [{"PLUGINS_CONFIG": {"webform": {"verify_hours": 2}}}])
def test_the_link_lifetime_comes_from_the_configuration(client, notices, submit, request_data, db):
    submit(client, request_data())
    assert "2 hours" in notices.sent[0]["text"]
    with clock_at(utcnow() + timedelta(hours=2, minutes=1)):
        assert post_form(client, notices.link_path()).status_code == 410


def test_the_link_is_in_the_language_of_the_form(client, notices, submit, request_data):
    submit(client, request_data(), locale="ro")
    assert notices.link_path().startswith("/ro/portal/webform/verify/")


def test_the_customer_signed_in_lands_on_the_request(
    app, client, customer, notices, submit, request_data, db
):
    submit(client, request_data(email=customer.email))
    signed_in = login(app.test_client(), customer)
    response = confirm(signed_in, notices.link_path())
    ticket = db.scalars(select(Ticket)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/en/portal/requests/{ticket.number}"
    assert ticket.customer_id == customer.id


def test_when_no_mail_can_be_sent_nothing_is_kept(client, undeliverable, submit, request_data, db):
    response = submit(client, request_data(message="Keep this text."))
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "We could not send you an email just now" in page
    assert "Keep this text." in page
    assert count(db, Submission) == 0
    assert db.scalar(select(User).where(User.email == "ada@example.test")) is None


def test_a_form_sent_twice_is_mailed_once(client, notices, form_token, request_data, db):
    url = "/en/portal/webform/new"
    data = request_data(form_token=form_token(client, url))
    assert post_form(client, url, data).status_code == 200
    assert post_form(client, url, data).status_code == 200
    assert len(notices.sent) == 1
    assert count(db, Submission) == 1


def test_expired_submissions_are_forgotten_with_their_files(
    client, notices, submit, request_data, db
):
    submit(client, request_data(attachments=[(io.BytesIO(b"x" * 10), "a.txt", "text/plain")]))
    assert purge_expired() == 0
    with clock_at(utcnow() + timedelta(hours=49)):
        assert purge_expired() == 1
    assert count(db, Submission) == 0
    assert count(db, Upload) == 0
    assert db.scalar(select(User).where(User.email == "ada@example.test")) is not None
