"""Attachment storage: content-addressed blobs on disk, sanitised names, enforced size limits."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
from pathlib import Path

from flask import current_app
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session
from frontdesk.models import Attachment, Message
from frontdesk.services.errors import TooLarge, ValidationFailed
from frontdesk.services.rows import insert_now, new_model

_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]+")
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def sanitize_filename(name: str, fallback: str = "attachment") -> str:
    """A filename safe on every filesystem and in a Content-Disposition header.

    Paths are stripped (only the last component survives), control characters and reserved
    characters removed, the result normalised to NFC and cut to 200 characters keeping the suffix.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name or name.split(".")[0].lower() in _RESERVED:
        name = fallback + (f"_{name}" if name else "")
    if len(name) > 200:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: 200 - len(suffix) - 1] + "." + suffix) if dot and len(suffix) < 20 else name[:200]
    return name


def blob_path(sha256: str) -> Path:
    root = Path(current_app.config["ATTACHMENT_DIR"])
    return root / sha256[:2] / sha256[2:4] / sha256


def write_blob(data: bytes) -> str:
    """Store ``data`` once under its SHA-256 and return the digest (an existing blob is reused).

    The bytes reach the disk (``fsync``) before the blob takes its name, so a row that names a
    digest never points at a half-written file after a crash.
    """
    digest = hashlib.sha256(data).hexdigest()
    path = str(blob_path(digest))
    if os.path.exists(path):
        return digest
    # Plain os calls: a message with attachments stores several blobs, and pathlib's mkdir and
    # tempfile's mkstemp cost more than the write. The folder is made only when it is missing.
    tmp = f"{path}.incoming-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, _NEW_FILE, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(tmp, _NEW_FILE, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return digest


def read_blob(sha256: str) -> bytes:
    return blob_path(sha256).read_bytes()


def check_attachments(files: list[IncomingAttachment]) -> None:
    """Refuse too many or too large files before anything is written."""
    config = current_app.config
    if len(files) > config["MAX_ATTACHMENTS_PER_MESSAGE"]:
        raise ValidationFailed(
            f"at most {config['MAX_ATTACHMENTS_PER_MESSAGE']} attachments per message",
            {"attachments": [f"{len(files)} attachments is too many"]},
        )
    limit = config["MAX_ATTACHMENT_BYTES"]
    for index, item in enumerate(files):
        if len(item.data) > limit:
            raise TooLarge(
                f"attachment {sanitize_filename(item.filename)!r} is {len(item.data)} bytes; "
                f"the limit is {limit} bytes",
                {f"attachments.{index}": [f"larger than {limit} bytes"]},
            )


def store_attachments(message: Message, files: list[IncomingAttachment]) -> list[Attachment]:
    """Store ``files`` and write their rows for ``message``, one INSERT each."""
    check_attachments(files)
    rows = []
    for index, item in enumerate(files, start=1):
        row = new_model(
            Attachment,
            message=message,
            sha256=write_blob(item.data),
            filename=sanitize_filename(item.filename, fallback=f"attachment-{index}"),
            media_type=(item.media_type or "application/octet-stream")[:255],
            size=len(item.data),
            content_id=item.content_id,
        )
        insert_now(row)
        rows.append(row)
    # The other side of the relationship, as assigning it would have done (without loading it
    # when nothing has read it yet: then the next read finds the rows).
    loaded = instance_state(message).dict.get("attachments")
    if rows and loaded is not None:
        set_committed_value(message, "attachments", [*loaded, *rows])
    return rows
