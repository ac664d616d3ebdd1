"""The web-form channel keeps the channel contract every channel keeps."""

from __future__ import annotations

import secrets

import pytest

from frontdesk.testing import contracts
from frontdesk_webform.channel import WebformChannel, inbound_message


class TestWebformChannel(contracts.ChannelContract):
    @pytest.fixture
    def provider(self) -> WebformChannel:
        return WebformChannel()

    @pytest.fixture
    def inbound_message(self):
        def make(*, sender_email: str, subject: str, body: str):
            return inbound_message(
                delivery_id=secrets.token_hex(16),
                email=sender_email,
                name="",
                subject=subject,
                body=body,
                language="en",
            )

        return make
