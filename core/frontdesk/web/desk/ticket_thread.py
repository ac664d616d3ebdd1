"""The ticket thread as the agent page shows it: messages prepared so the template only prints.

Folding quoted mail and signatures, inline images, file sizes and times in the user's locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import flask_babel
from babel.dates import get_date_format, get_datetime_format, get_time_format
from flask import url_for
from markupsafe import Markup, escape

from frontdesk.i18n import _, format_datetime, format_decimal, localize_digits, ngettext
from frontdesk.models import Attachment, Message

KIND_CLASSES = {
    "customer": "kind-customer",
    "agent": "kind-agent",
    "internal_note": "kind-internal",
    "system": "kind-system",
}
INLINE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_CID_SRC = re.compile(r'src="cid:([^"]+)"')


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
    patterns up for each was a good part of the page's rendering time.
    """
    locale, zone = flask_babel.get_locale(), flask_babel.get_timezone()
    if locale is None or flask_babel.get_babel().instance.date_formats["datetime.short"]:
        return lambda value: format_datetime(value, "short")  # configured formats: the filter
    joined = get_datetime_format("short", locale=locale).replace("'", "")
    date_pattern = get_date_format("short", locale=locale)
    time_pattern = get_time_format("short", locale=locale)

    def formatted(value: datetime) -> str:
        local = value.astimezone(zone)
        text = joined.replace(
            "{0}", time_pattern.apply(local.timetz(), locale, reference_date=local.date())
        )
        return localize_digits(text.replace("{1}", date_pattern.apply(local, locale)), locale)

    return formatted


@dataclass
class ThreadEntry:
    """One message as the page shows it, prepared so the template only prints.

    ``parts`` is the text cut into ``text``, ``quote`` and ``signature`` pieces; ``folded`` says
    they carry the channel's quote marks, so the page shows them and offers the sanitised HTML
    as the formatted version. Otherwise the HTML, when there is some, is the body.
    """

    message: Message
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
    return any(key in meta for key in ("quote_start", "signature_start", "quoted_ranges"))


def _inline_images(html: str, attachments: list[Attachment]) -> str:
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


def thread_entry(message: Message, when: Callable[[datetime], str]) -> ThreadEntry:
    meta = message.meta or {}
    text = message.body_text or ""
    attachments = list(message.attachments)
    folded = _has_marks(meta) and bool(text.strip())
    html = None
    if message.body_html:
        # Stored HTML was sanitised (nh3) on the way in: the one place the page trusts markup.
        html = Markup(_inline_images(message.body_html, attachments))
    author = message.author
    public_agent = message.kind == "agent"
    return ThreadEntry(
        message=message,
        css=KIND_CLASSES.get(message.kind, "kind-system"),
        author=(author.name or author.email) if author is not None else None,
        iso=message.created_at.isoformat(),
        time=when(message.created_at),
        parts=fold_text(text, meta) if folded else [("text", text)],
        html=html,
        folded=folded,
        mentions=[str(m.get("name")) for m in meta.get("mentions") or [] if isinstance(m, dict)],
        files=[(attachment_url(a), a.filename, human_size(a.size)) for a in attachments],
        threaded_by=_text(meta.get("threaded_by")),
        thread_refused=_text(meta.get("thread_refused")),
        delivery_error=_text(meta.get("delivery_error")) if public_agent else None,
        delivered=public_agent and bool(meta.get("delivered_at")),
    )


def _text(value: Any) -> str | None:
    return str(value) if value else None


def attachment_url(attachment: Attachment) -> str:
    return url_for("desk.attachment", attachment_id=attachment.id, filename=attachment.filename)
