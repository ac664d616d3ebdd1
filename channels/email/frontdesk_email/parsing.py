"""Raw mail bytes into the core's ``InboundMessage``: MIME walking with limits, bodies, files.

:func:`parse_mail` never lets a malformed message crash the caller: what cannot be read at all
raises :class:`MailRejected` with a reason; everything else is decoded as well as it can be
(undecodable bytes become U+FFFD) and odd findings are listed in ``ParsedMail.notes``.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message as MimePart
from typing import Any

from frontdesk.channels.base import InboundMessage, IncomingAttachment
from frontdesk.services import html_to_text, sanitize_filename, sanitize_html

from . import mimetext as mt
from .quotes import mark_quotes

CHANNEL = "email"
BODY_TYPES = ("text/plain", "text/html")
# Alternatives nobody reads in a helpdesk; dropped rather than attached.
SKIPPED_ALTERNATIVES = ("text/enriched", "text/richtext", "text/watch-html", "text/x-amp-html")
ATTACHED_MESSAGES = ("message/rfc822", "message/global")


class MailRejected(Exception):
    """The message cannot be taken in at all; ``str(exc)`` says why."""


@dataclass(frozen=True)
class Limits:
    """How much MIME structure and text one message may carry."""

    max_parts: int = 500
    max_depth: int = 20
    max_body_chars: int = 1_000_000


@dataclass
class ParsedMail:
    """A parsed message and the facts the ingest pipeline records about it."""

    message: InboundMessage
    message_id: str
    message_id_derived: bool
    body_sha256: str
    recipients: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Leaf:
    part: MimePart
    parent_type: str
    attached_message: bool = False


def parse_mail(raw: bytes, limits: Limits | None = None) -> ParsedMail:
    """Parse ``raw`` (one RFC 5322 message) for the core; raise ``MailRejected`` if unusable."""
    limits = limits or Limits()
    try:
        mail = message_from_bytes(raw, policy=policy.compat32)
    except RecursionError:
        raise MailRejected("MIME structure nested too deeply to parse") from None
    notes: list[str] = []
    fallback = _declared_charset(mail)
    leaves = _leaves(mail, limits)
    name, sender = mt.address(mail.get("From"), fallback)
    if not sender:
        name, sender = mt.address(mail.get("Sender") or mail.get("Reply-To"), fallback)
        notes.append("no usable From address" + ("; used Sender/Reply-To" if sender else ""))
    ids = mt.message_ids(mail.get("Message-ID"))
    message_id = ids[0] if ids else mt.derived_message_id(raw)
    if not ids:
        notes.append("no Message-ID; derived one from the message's content")
    date = mt.parse_date(mail.get("Date"))
    if date is None:
        notes.append("no readable Date header")
    text_parts, html_parts, files = _bodies(leaves, notes)
    body_html = sanitize_html("\n".join(html_parts)) if html_parts else None
    body_text = "\n\n".join(t for t in text_parts if t.strip())
    if not body_text.strip() and body_html:
        body_text = html_to_text(body_html)
    body_text, body_html = _within_limits(body_text, body_html, html_parts, files, limits, notes)
    meta: dict[str, Any] = mark_quotes(body_text)
    if date is not None:
        meta["date"] = date.isoformat()
    report = _report(mail)
    if report:
        meta.update(report)
    headers = _headers(mail, fallback)
    message = InboundMessage(
        channel=CHANNEL,
        sender_email=sender or None,
        sender_name=name,
        subject=mt.header_text(mail.get("Subject"), fallback)[:500],
        body_text=body_text,
        body_html=body_html,
        external_id=message_id,
        in_reply_to=mt.message_ids(mail.get("In-Reply-To")),
        references=mt.message_ids(mail.get("References"))[-50:],
        headers=headers,
        attachments=files,
        meta=meta,
    )
    recipients = mt.addresses(
        [*mail.get_all("Delivered-To", []), *mail.get_all("X-Original-To", []),
         *mail.get_all("To", []), *mail.get_all("Cc", [])]
    )  # fmt: skip
    return ParsedMail(
        message=message,
        message_id=message_id,
        message_id_derived=not ids,
        body_sha256=_content_hash(body_text, body_html, files),
        recipients=recipients,
        notes=notes,
    )


def _declared_charset(mail: MimePart) -> str | None:
    """The first charset the message declares (for raw 8-bit bytes in its headers)."""
    for part in mail.walk():
        charset = part.get_content_charset()
        if charset:
            return charset
    return None


def _leaves(mail: MimePart, limits: Limits) -> list[_Leaf]:
    """Every non-multipart part in order, enforcing the part-count and depth limits."""
    leaves: list[_Leaf] = []
    stack: list[tuple[MimePart, int, str, bool]] = [(mail, 0, "", False)]
    count = 0
    while stack:
        part, depth, parent_type, inside = stack.pop()
        count += 1
        if count > limits.max_parts:
            raise MailRejected(f"more than {limits.max_parts} MIME parts")
        if depth > limits.max_depth:
            raise MailRejected(f"MIME parts nested more than {limits.max_depth} levels deep")
        ctype = part.get_content_type()
        attached = ctype in ATTACHED_MESSAGES
        if attached and not inside:
            leaves.append(_Leaf(part, parent_type, attached_message=True))
        payload = part.get_payload()
        if isinstance(payload, list):
            # Parts of an attached message are counted against the limits but not unpacked.
            for child in reversed(payload):
                if isinstance(child, MimePart):
                    stack.append((child, depth + 1, ctype, inside or attached))
        elif not inside and not attached:
            leaves.append(_Leaf(part, parent_type))
    return leaves


def _bodies(leaves: list[_Leaf], notes: list[str]) -> tuple[list[str], list[str], list[Any]]:
    text: list[str] = []
    html: list[str] = []
    files: list[IncomingAttachment] = []
    for leaf in leaves:
        part = leaf.part
        ctype = part.get_content_type()
        if ctype.startswith("multipart/"):
            ctype = "text/plain"  # a multipart without a usable boundary: its text is the body
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = _filename(part)
        if leaf.attached_message:
            files.append(_attached_message(part, len(files) + 1))
            continue
        is_body = ctype in BODY_TYPES and disposition != "attachment" and not filename
        if leaf.parent_type == "multipart/alternative" and ctype in SKIPPED_ALTERNATIVES:
            continue
        data = _payload(part)
        if is_body:
            content = _text_of(part, data, notes)
            (html if ctype == "text/html" else text).append(content)
            continue
        cid = mt.ascii_header(part.get("Content-ID")).strip().strip("<>")[:255] or None
        files.append(
            IncomingAttachment(
                filename=filename or _fallback_name(ctype, len(files) + 1),
                data=data,
                media_type=ctype,
                content_id=cid,
            )
        )
    return text, html, files


def _payload(part: MimePart) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep what is there, undecoded
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _text_of(part: MimePart, data: bytes, notes: list[str]) -> str:
    charset = part.get_content_charset()
    if charset and mt.codec_for(charset) is None:
        notes.append(f"unknown charset {charset!r}; read as UTF-8")
    text = mt.decode_bytes(data, charset)
    if "\ufffd" in text and not data.count("\ufffd".encode()):
        notes.append(f"bytes not valid in {charset or 'the default charset'} were replaced")
    return mt.clean_text(text.replace("\r\n", "\n"))


def _filename(part: MimePart) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # malformed RFC 2231 parameters
        name = ""
    if not name:
        return ""
    if not name.isascii() or mt.has_surrogates(name):
        name = mt.header_text(name)
    elif "=?" in name:
        name = mt.header_text(name)
    return sanitize_filename(mt.clean_text(name)) if name.strip() else ""


def _fallback_name(ctype: str, index: int) -> str:
    suffix = mimetypes.guess_extension(ctype, strict=False) or ".bin"
    return f"attachment-{index}{suffix}"


def _attached_message(part: MimePart, index: int) -> IncomingAttachment:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else None
    data = b""
    subject = ""
    if isinstance(inner, MimePart):
        subject = mt.header_text(inner.get("Subject"))
        try:
            data = inner.as_bytes()
        except Exception:  # regenerating odd mail can fail; the text form is still useful
            data = inner.as_string().encode("utf-8", "surrogateescape")
    name = sanitize_filename(f"{subject[:80]}.eml") if subject.strip() else f"message-{index}.eml"
    return IncomingAttachment(filename=name, data=data, media_type="message/rfc822")


def _within_limits(
    body_text: str,
    body_html: str | None,
    html_parts: list[str],
    files: list[IncomingAttachment],
    limits: Limits,
    notes: list[str],
) -> tuple[str, str | None]:
    """Keep oversized bodies whole as attachments and store a shortened text."""
    limit = limits.max_body_chars
    if body_html is not None and len(body_html) > limit:
        files.append(
            IncomingAttachment("message.html", "\n".join(html_parts).encode(), "text/html")
        )
        notes.append(f"HTML body longer than {limit} characters; attached as message.html")
        body_html = None
    if len(body_text) > limit:
        files.append(IncomingAttachment("message.txt", body_text.encode(), "text/plain"))
        notice = "\n\n[The message was shortened here; the full text is attached as message.txt]"
        body_text = body_text[: limit - len(notice)] + notice
        notes.append(f"text body longer than {limit} characters; attached as message.txt")
    return body_text, body_html


def _headers(mail: MimePart, fallback: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name in mail.keys():
        key = name.strip().lower()
        if key in headers or key in mt.TRACE_HEADERS - {"return-path"}:
            continue
        headers[key] = mt.header_text(mail.get(name), fallback)[:2000]
    return headers


def _report(mail: MimePart) -> dict[str, Any]:
    """Delivery-status (RFC 3464) or read-receipt facts of a ``multipart/report``."""
    if mail.get_content_type() != "multipart/report":
        return {}
    kind = mt.ascii_header(mail.get_param("report-type") or "").lower()
    if kind == "disposition-notification":
        return {"mdn": True}
    if kind != "delivery-status":
        return {}
    recipients: list[dict[str, str]] = []
    original = ""
    for part in mail.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks = part.get_payload()
            for block in blocks[1:] if isinstance(blocks, list) else []:
                recipients.append(
                    {
                        key: mt.ascii_header(block.get(header))[:500]
                        for key, header in (
                            ("recipient", "Final-Recipient"), ("action", "Action"),
                            ("status", "Status"), ("diagnostic", "Diagnostic-Code"),
                        )
                    }  # fmt: skip
                )
        elif ctype in (*ATTACHED_MESSAGES, "text/rfc822-headers") and not original:
            original = _original_id(part)
    return {"dsn": {"original_message_id": original, "recipients": recipients}}


def _original_id(part: MimePart) -> str:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], MimePart):
        ids = mt.message_ids(inner[0].get("Message-ID"))
    else:
        headers = message_from_bytes(_payload(part), policy=policy.compat32)
        ids = mt.message_ids(headers.get("Message-ID"))
    return ids[0] if ids else ""


def _content_hash(body_text: str, body_html: str | None, files: list[IncomingAttachment]) -> str:
    digest = hashlib.sha256()
    for piece in (body_text, "\0", body_html or "", "\0"):
        digest.update(piece.encode("utf-8", "replace"))
    for item in files:
        digest.update(hashlib.sha256(item.data).digest())
        digest.update(item.filename.encode("utf-8", "replace"))
    return digest.hexdigest()
