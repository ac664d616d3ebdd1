"""Fixtures of the web-form tests: a notice box standing in for the email channel, form helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from frontdesk.plugins import hookimpl
from frontdesk.testing import post_form

TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


class NoticeBox:
    """Takes every notice (as the email channel would) and keeps it for the test to read."""

    def __init__(self, deliver: bool = True) -> None:
        self.deliver = deliver
        self.sent: list[dict[str, Any]] = []

    @hookimpl(tryfirst=True)
    def deliver_notice(self, recipient, kind, subject, text, url):
        if not self.deliver:
            return False
        self.sent.append(
            {"to": recipient.email, "kind": kind, "subject": subject, "text": text, "url": url}
        )
        return True

    def link_path(self, index: int = -1) -> str:
        """The path of a notice's link (the test client talks to the app without a host)."""
        return urlsplit(self.sent[index]["url"]).path


@pytest.fixture
def notices(plugins: Any) -> NoticeBox:
    return plugins.register(NoticeBox(), name="notice_box")


@pytest.fixture
def undeliverable(plugins: Any) -> NoticeBox:
    """A notice plugin that answers that it could not deliver (a mail server that is down)."""
    return plugins.register(NoticeBox(deliver=False), name="notice_box")


def read_form_token(client: Any, url: str) -> str:
    """The form's own token, as a browser gets it by opening the form."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    match = TOKEN_RE.search(page.get_data(as_text=True))
    assert match, "the form carries no form_token"
    return match.group(1)


@pytest.fixture
def submit() -> Callable[..., Any]:
    """``submit(client, data, locale="en", files=None)``: open the portal form and send it."""

    def send(client: Any, data: dict[str, Any], locale: str = "en", **kwargs: Any) -> Any:
        url = f"/{locale}/portal/webform/new"
        payload = {"form_token": read_form_token(client, url), **data}
        return post_form(client, url, payload, content_type="multipart/form-data", **kwargs)

    return send


@pytest.fixture
def form_token() -> Callable[[Any, str], str]:
    """``form_token(client, url)``: open a form page and return its token."""
    return read_form_token


@pytest.fixture
def request_data() -> Callable[..., dict[str, Any]]:
    """``request_data(**overrides)``: a complete anonymous request."""

    def make(**overrides: Any) -> dict[str, Any]:
        data = {
            "name": "Ada Lovelace",
            "email": "ada@example.test",
            "subject": "The printer jams",
            "message": "Every morning the printer on floor 2 jams.",
        }
        data.update(overrides)
        return data

    return make
