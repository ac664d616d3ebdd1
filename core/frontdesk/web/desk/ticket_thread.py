"""The ticket thread as the agent page shows it: messages prepared so the template only prints.

The thread is read in two queries (messages with their authors' names, then their attachments)
as plain rows, whatever its length. Folding quoted mail and signatures, inline images, file sizes
and times in the user's locale are done here once per message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import flask_babel
from babel.dates import get_date_format, get_datetime_format, get_time_format, tokenize_pattern
from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select

from frontdesk.db import session
from frontdesk.i18n import _, format_datetime, format_decimal, localize_digits, ngettext
from frontdesk.models import Attachment, Message, Ticket, User

KIND_CLASSES = {
    "customer": "kind-customer",
    "agent": "kind-agent",
    "internal_note": "kind-internal",
    "system": "kind-system",
}
INLINE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_CID_SRC = re.compile(r'src="cid:([^"]+)"')
QUOTE_MARKS = frozenset({"quote_start", "signature_start", "quoted_ranges"})
# Time fields that change at most once a minute and name no zone: such a time pattern writes
# the same text for every moment of a minute, so a thread formats each minute once.
_MINUTE_FIELDS = frozenset("hHkKma")


# Built once (building a statement costs more than running it); rows, not objects, since the
# page only prints them.
THREAD_ROWS = (
    select(
        Message.id,
        Message.kind,
        Message.channel,
        Message.body_text,
        Message.body_html,
        Message.meta,
        Message.created_at,
        User.name.label("author_name"),
        User.email.label("author_email"),
    )
    .outerjoin(User, User.id == Message.author_id)
    .where(Message.ticket_id == bindparam("ticket_id"))
    .order_by(Message.id)
)
THREAD_FILES = (
    select(
        Attachment.id,
        Attachment.message_id,
        Attachment.filename,
        Attachment.media_type,
        Attachment.size,
        Attachment.content_id,
    )
    .join(Message, Message.id == Attachment.message_id)
    .where(Message.ticket_id == bindparam("ticket_id"))
    .order_by(Attachment.id)
)


class FileFacts(Protocol):
    """What the page needs of an attachment: a loaded ``Attachment`` or one of its rows."""

    @property
    def id(self) -> int: ...
    @property
    def filename(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def content_id(self) -> str | None: ...


def human_size(size: int) -> str:
    """A file size for people, in the user's locale."""
    if size >= 1024 * 1024:
        return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))
    if size >= 1024:
        return _("%(size)s KB", size=format_decimal(round(size / 1024, 1)))
    return ngettext("%(num)d byte", "%(num)d bytes", size)


def short_datetimes() -> Callable[[datetime], str]:
    """What ``|datetimeformat("short")`` gives, with the locale's patterns looked up once.

    A long thread shows a time per message and per history row; Babel looking the same
    patterns up for each was a good part of the page's rendering time. Each local minute (or
    moment, for a pattern with seconds or a zone) is formatted once per call of this function.
    """
    locale, zone = flask_babel.get_locale(), flask_babel.get_timezone()
    if locale is None or flask_babel.get_babel().instance.date_formats["datetime.short"]:
        return lambda value: format_datetime(value, "short")  # configured formats: the filter
    joined = get_datetime_format("short", locale=locale).replace("'", "")
    date_pattern = get_date_format("short", locale=locale)
    time_pattern = get_time_format("short", locale=locale)
    by_minute = _minute_resolution(time_pattern.pattern)
    done: dict[object, str] = {}

    def formatted(value: datetime) -> str:
        local = value.astimezone(zone)
        key = (local.date(), local.hour, local.minute) if by_minute else local
        text = done.get(key)
        if text is None:
            time_text = time_pattern.apply(local.timetz(), locale, reference_date=local.date())
            text = joined.replace("{0}", time_text).replace(
                "{1}", date_pattern.apply(local, locale)
            )
            text = done[key] = localize_digits(text, locale)
        return text

    return formatted


@functools.cache
def _minute_resolution(pattern: str) -> bool:
    """Whether a time pattern writes the same text for every moment of a minute."""
    fields = [token[1][0] for token in tokenize_pattern(pattern) if token[0] == "field"]
    return all(letter in _MINUTE_FIELDS for letter in fields)


class ThreadMessages:
    """The thread's ``Message`` objects, for templates that want more than an entry holds.

    The page itself never asks; the first entry that is asked loads the whole thread in one
    query, so an override that uses ``entry.message`` costs one statement, not one per message.
    """

    def __init__(self, ticket: Ticket) -> None:
        self._ticket = ticket
        self._by_id: dict[int, Message] | None = None

    def get(self, message_id: int) -> Message:
        if self._by_id is None:
            self._by_id = {m.id: m for m in self._ticket.messages}
        return self._by_id.get(message_id) or session.get_one(Message, message_id)


@dataclass(slots=True)
class ThreadEntry:
    """One message as the page shows it, prepared so the template only prints.

    ``parts`` is the text cut into ``text``, ``quote`` and ``signature`` pieces; ``folded`` says
    they carry the channel's quote marks, so the page shows them and offers the sanitised HTML
    as the formatted version. Otherwise the HTML, when there is some, is the body.
    ``message`` is the ``Message`` itself (loaded on first use, see :class:`ThreadMessages`).
    """

    id: int
    kind: str
    channel: str
    source: ThreadMessages = field(repr=False, compare=False)
    css: str
    author: str | None
    iso: str
    time: str
    parts: list[tuple[str, str]]
    html: Markup | None = None
    folded: bool = False
    mentions: list[str] = field(default_factory=list)
    files: list[tuple[str, str, str]] = field(default_factory=list)  # (url, name, size)
    threaded_by: str | None = None
    thread_refused: str | None = None
    delivery_error: str | None = None
    delivered: bool = False

    @property
    def message(self) -> Message:
        return self.source.get(self.id)


def _offset(meta: dict[str, Any], key: str, size: int) -> int | None:
    value = meta.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= size:
        return value
    return None


def fold_text(text: str, meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Cut ``text`` into ``text``, ``quote`` and ``signature`` parts from the channel's marks.

    The email channel records where quoted earlier mail (``quote_start``, ``quoted_ranges``) and
    the signature (``signature_start``) begin; every character is kept, only folded.
    """
    size = len(text)
    tail = _offset(meta, "quote_start", size) or size
    signature = _offset(meta, "signature_start", size)
    if signature is not None and signature >= tail:
        signature = None
    body_end = signature if signature is not None else tail
    parts: list[tuple[str, str]] = []
    position = 0
    ranges = meta.get("quoted_ranges") if isinstance(meta.get("quoted_ranges"), list) else []
    for item in sorted(r for r in ranges if isinstance(r, list) and len(r) == 2):
        start, end = item
        if not all(isinstance(v, int) for v in item) or start < position or end > body_end:
            continue
        if start > position:
            parts.append(("text", text[position:start]))
        parts.append(("quote", text[start:end]))
        position = end
    if position < body_end:
        parts.append(("text", text[position:body_end]))
    if signature is not None:
        parts.append(("signature", text[signature:tail]))
    if tail < size:
        parts.append(("quote", text[tail:]))
    return [(kind, chunk) for kind, chunk in parts if chunk.strip()] or [("text", text)]


def _has_marks(meta: dict[str, Any]) -> bool:
    return not QUOTE_MARKS.isdisjoint(meta)


def _inline_images(html: str, attachments: Sequence[FileFacts]) -> str:
    """Point ``cid:`` images of a mail at their attachments (raster images only)."""
    if "cid:" not in html:
        return html
    by_cid = {
        a.content_id.strip("<>"): a
        for a in attachments
        if a.content_id and a.media_type.lower() in INLINE_IMAGE_TYPES
    }

    def swap(match: re.Match[str]) -> str:
        found = by_cid.get(match.group(1).strip("<>"))
        if found is None:
            return match.group(0)
        return f'src="{escape(attachment_url(found))}"'

    return _CID_SRC.sub(swap, html)


def load_thread(ticket: Ticket, when: Callable[[datetime], str]) -> list[ThreadEntry]:
    """The thread of ``ticket``, oldest first, in two queries whatever its length."""
    params = {"ticket_id": ticket.id}
    files: dict[int, list[FileFacts]] = {}
    for found in session.execute(THREAD_FILES, params):
        files.setdefault(found.message_id, []).append(found)
    source = ThreadMessages(ticket)
    return [
        thread_entry(row, files.get(row.id, []), when, source)
        for row in session.execute(THREAD_ROWS, params)
    ]


def thread_entry(
    row: Any,
    attachments: Sequence[FileFacts],
    when: Callable[[datetime], str],
    source: ThreadMessages,
) -> ThreadEntry:
    """One message row (columns of ``Message`` plus ``author_name``/``author_email``) prepared."""
    text = row.body_text or ""
    entry = ThreadEntry(
        id=row.id,
        kind=row.kind,
        channel=row.channel,
        source=source,
        css=KIND_CLASSES.get(row.kind, "kind-system"),
        author=row.author_name or row.author_email,
        iso=row.created_at.isoformat(),
        time=when(row.created_at),
        parts=[("text", text)],
    )
    if row.body_html:
        # Stored HTML was sanitised (nh3) on the way in: the one place the page trusts markup.
        entry.html = Markup(_inline_images(row.body_html, attachments))
    if attachments:
        entry.files = [(attachment_url(a), a.filename, human_size(a.size)) for a in attachments]
    if row.meta:
        _add_channel_facts(entry, row.meta, text)
    return entry


def _add_channel_facts(entry: ThreadEntry, meta: dict[str, Any], text: str) -> None:
    """What the channel recorded about the message: quote marks, mentions, threading, delivery."""
    if _has_marks(meta) and text.strip():
        entry.folded = True
        entry.parts = fold_text(text, meta)
    entry.mentions = [str(m.get("name")) for m in meta.get("mentions") or [] if isinstance(m, dict)]
    entry.threaded_by = _text(meta.get("threaded_by"))
    entry.thread_refused = _text(meta.get("thread_refused"))
    if entry.kind == "agent":
        entry.delivery_error = _text(meta.get("delivery_error"))
        entry.delivered = bool(meta.get("delivered_at"))


def _text(value: Any) -> str | None:
    return str(value) if value else None


def attachment_url(attachment: FileFacts) -> str:
    return url_for("desk.attachment", attachment_id=attachment.id, filename=attachment.filename)
