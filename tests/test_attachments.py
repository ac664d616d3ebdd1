"""Attachments: content-addressed storage, sanitised names, size limits."""

from __future__ import annotations

import hashlib
import os

import pytest

from frontdesk.channels.base import IncomingAttachment
from frontdesk.services import (
    TooLarge,
    ValidationFailed,
    read_blob,
    reply,
    sanitize_filename,
    write_blob,
)
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


def test_a_blob_is_written_whole_into_a_new_folder(app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "store")
    data = bytes(range(256)) * 4096  # 1 MiB: more than one write() may take at once
    digest = write_blob(data)
    assert blob_path(digest).read_bytes() == data
    assert write_blob(data) == digest  # stored once, reused
    assert [p.name for p in blob_path(digest).parent.iterdir()] == [digest]


def test_a_failed_blob_write_leaves_no_file_behind(app, tmp_path, monkeypatch):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "store")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_blob(b"never stored")
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert not blob_path(digest).exists()
    assert list(blob_path(digest).parent.iterdir()) == []  # no half-written temporary file

    monkeypatch.undo()
    assert read_blob(write_blob(b"never stored")) == b"never stored"  # a retry stores it
