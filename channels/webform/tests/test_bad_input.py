"""Robots, floods, oversized files, hostile markup, missing fields and stale forms."""

from __future__ import annotations

import io
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from frontdesk.models import Ticket, User
from frontdesk.testing import post_form
from frontdesk_webform.models import Submission
from frontdesk_webform.tokens import SALT

NEW = "/en/portal/webform/new"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_filled_honeypot_is_thanked_and_forgotten(client, notices, submit, request_data, db):
    response = submit(client, request_data(website="http://spam.example"))
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert notices.sent == []
    assert count(db, Submission) == 0
    assert db.scalar(select(User).where(User.email == "ada@example.test")) is None


def test_the_honeypot_is_hidden_from_people(client):
    page = client.get(NEW).get_data(as_text=True)
    assert 'class="webform-hp" aria-hidden="true"' in page
    assert 'name="website" type="text" value="" tabindex="-1" autocomplete="off"' in page


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_ENABLED": True,
            "PLUGINS_CONFIG": {"webform": {"rate_limit_per_email": [2, 3600]}},
        }
    ],
)
def test_one_address_cannot_flood_the_form(client, notices, submit, request_data, db):
    for n in range(2):
        assert submit(client, request_data(subject=f"Request {n}")).status_code == 200
    third = submit(client, request_data(subject="One too many"))
    page = third.get_data(as_text=True)
    assert third.status_code == 429
    assert "You sent many requests in a short time" in page
    assert 'value="One too many"' in page
    assert len(notices.sent) == 2
    other = submit(client, request_data(email="grace@example.test"))
    assert other.status_code == 200


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "PLUGINS_CONFIG": {"webform": {"rate_limit_per_ip": [2, 3600]}}}],
)
def test_one_address_on_the_network_cannot_flood_the_form(client, notices, submit, request_data):
    for n in range(2):
        assert submit(client, request_data(email=f"user{n}@example.test")).status_code == 200
    assert submit(client, request_data(email="user9@example.test")).status_code == 429
    assert len(notices.sent) == 2


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENT_BYTES": 1024}])
def test_an_oversized_file_is_named_and_the_text_kept(client, notices, submit, request_data, db):
    files = [
        (io.BytesIO(b"small"), "ok.txt", "text/plain"),
        (io.BytesIO(b"x" * 2048), "<b>huge</b>.bin", "application/octet-stream"),
    ]
    response = submit(client, request_data(message="My long explanation.", attachments=files))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "is too large: each file can be at most 1 KB" in page
    assert "&lt;b&gt;huge&lt;/b&gt;.bin" in page and "<b>huge</b>" not in page
    assert "My long explanation." in page and 'value="The printer jams"' in page
    assert 'data-max-bytes="1024"' in page, "the browser checks the same limit before sending"
    assert notices.sent == [] and count(db, Submission) == 0


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 64 * 1024}])
def test_an_upload_larger_than_any_request_gets_a_clear_message(client, submit, request_data, db):
    files = [(io.BytesIO(b"x" * 100 * 1024), "video.mp4", "video/mp4")]
    response = submit(client, request_data(attachments=files))
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Your request is too large to be received" in page
    assert 'name="form_token"' in page, "the form is there to write the request again"
    assert count(db, Submission) == 0


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENTS_PER_MESSAGE": 2}])
def test_too_many_files_are_refused(client, submit, request_data, db):
    files = [(io.BytesIO(b"x"), f"{n}.txt", "text/plain") for n in range(3)]
    response = submit(client, request_data(attachments=files))
    assert response.status_code == 422
    assert "You can attach at most 2 files." in response.get_data(as_text=True)


def test_missing_fields_come_back_with_errors_and_what_was_typed(client, notices, submit, db):
    response = submit(
        client, {"name": "Ada", "email": "not an address", "subject": "", "message": "Text stays."}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please enter a valid email address." in page
    assert "Please say in a few words what your request is about." in page
    assert 'value="Ada"' in page and 'value="not an address"' in page and "Text stays." in page
    assert 'aria-invalid="true" aria-describedby="e-subject"' in page
    assert notices.sent == [] and count(db, Submission) == 0


def test_hostile_markup_is_shown_as_text(client, notices, submit, request_data, make_queue, db):
    make_queue(
        key="billing",
        name="Billing",
        custom_fields=[{"key": "ref", "label": "Ref", "type": "text"}],
    )
    make_queue(key="other", name="Other")
    response = submit(
        client,
        request_data(
            name=HOSTILE,
            subject=HOSTILE,
            message="",
            queue="billing",
            **{"cf.billing.ref": HOSTILE},
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page

    submit(client, request_data(name=HOSTILE, subject=HOSTILE, message=HOSTILE, queue="other"))
    confirm_page = client.get(notices.link_path()).get_data(as_text=True)
    assert HOSTILE not in confirm_page and "&lt;script&gt;" in confirm_page
    done = post_form(client, notices.link_path()).get_data(as_text=True)
    assert HOSTILE not in done
    ticket = db.scalars(select(Ticket)).one()
    assert ticket.subject == HOSTILE, "stored as typed; escaping is the page's job"
    assert ticket.messages[0].body_html is None


def test_a_form_without_its_token_is_refused(client, notices, request_data, db):
    response = post_form(client, NEW, request_data())
    assert response.status_code == 400
    assert "The form could not be checked" in response.get_data(as_text=True)
    assert 'value="The printer jams"' in response.get_data(as_text=True)
    assert notices.sent == [] and count(db, Submission) == 0


def test_a_forged_token_is_refused(client, notices, request_data, db):
    forged = URLSafeTimedSerializer("not-our-secret", salt=SALT).dumps({"d": "x" * 32, "e": False})
    response = post_form(client, NEW, request_data(form_token=forged))
    assert response.status_code == 400
    assert notices.sent == [] and count(db, Submission) == 0


class YesterdaySigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 24 * 3600


def test_a_form_open_too_long_is_sent_again_by_hand(app, client, notices, request_data, db):
    old = URLSafeTimedSerializer(app.secret_key, salt=SALT, signer=YesterdaySigner).dumps(
        {"d": "a" * 32, "e": False}
    )
    response = post_form(client, NEW, request_data(form_token=old))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form was open for too long" in page
    assert 'value="The printer jams"' in page
    assert old not in page, "the form comes back with a fresh token"
    assert notices.sent == [] and count(db, Submission) == 0
