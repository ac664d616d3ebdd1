"""Attachments: content-addressed storage, sanitised names, size limits."""

from __future__ import annotations

import pytest

from frontdesk.channels.base import IncomingAttachment
from frontdesk.services import TooLarge, ValidationFailed, read_blob, reply, sanitize_filename
from frontdesk.services.attachments import blob_path


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("inv<oi>ce?.pdf", "inv_oi_ce_.pdf"),
        ("nul\x00byte.txt", "nul_byte.txt"),
        ("CON.txt", "attachment_CON.txt"),
        ("", "attachment"),
        ("..", "attachment"),
        ("صورتحساب.pdf", "صورتحساب.pdf"),
    ],
)
def test_filenames_are_sanitised(raw, clean):
    assert sanitize_filename(raw) == clean


def test_long_names_keep_their_suffix():
    name = sanitize_filename("a" * 300 + ".docx")
    assert len(name) <= 200 and name.endswith(".docx")


def test_same_bytes_are_stored_once(make_ticket, agent, app):
    ticket = make_ticket()
    data = b"%PDF-1.7 same bytes"
    one = reply(ticket, "first", agent, attachments=[IncomingAttachment("a.pdf", data, "application/pdf")])
    two = reply(ticket, "second", agent, attachments=[IncomingAttachment("b.pdf", data)])
    assert one.attachments[0].sha256 == two.attachments[0].sha256
    assert read_blob(one.attachments[0].sha256) == data
    assert blob_path(one.attachments[0].sha256).stat().st_size == len(data)


def test_oversized_and_too_many_attachments_are_refused(make_ticket, agent, app, db):
    ticket = make_ticket()
    limit = app.config["MAX_ATTACHMENT_BYTES"]
    with pytest.raises(TooLarge):
        reply(ticket, "big", agent, attachments=[IncomingAttachment("big.bin", b"x" * (limit + 1))])
    app.config["MAX_ATTACHMENTS_PER_MESSAGE"] = 2
    with pytest.raises(ValidationFailed):
        reply(ticket, "many", agent, attachments=[IncomingAttachment(f"{i}.txt", b"x") for i in range(3)])
    db.expire_all()
    assert len(ticket.messages) == 1  # nothing was half-written
