"""Text out of mail: charsets that may be wrong or missing, RFC 2047 headers, addresses, ids.

Nothing here raises on bad input: undecodable bytes become U+FFFD, unknown charsets fall back to
UTF-8 (with replacement), malformed encoded words are kept as written.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

# Labels mail software writes that Python's codec registry does not know (or knows too narrowly).
CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "windows-874": "cp874",
    "ansi_x3.4-1968": "ascii",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "x-user-defined": "",
    "default": "",
}
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+")
TRACE_HEADERS = frozenset(
    {
        "received", "return-path", "delivered-to", "x-original-to", "x-envelope-from",
        "x-envelope-to", "dkim-signature", "arc-seal", "arc-message-signature",
        "arc-authentication-results", "authentication-results", "received-spf",
        "x-received", "x-google-smtp-source", "x-gm-message-state",
    }
)  # fmt: skip


def codec_for(charset: str | None) -> str | None:
    """Python's codec for a MIME charset label, or ``None`` when it is missing or unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower().split("*", 1)[0]
    name = CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # Only real text encodings: "rot13" or "base64" are codecs too, but not charsets.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` as text in ``charset``; missing/unknown charsets are read as UTF-8 (lossy)."""
    codec = codec_for(charset)
    if codec in (None, "ascii"):
        # Mail that says nothing (or US-ASCII) yet carries 8-bit bytes is nearly always UTF-8.
        return data.decode("utf-8", "replace")
    try:
        return data.decode(codec, "replace")
    except Exception:  # a codec that misbehaves on odd input must not cost us the message
        return data.decode("utf-8", "replace")


def clean_text(text: str) -> str:
    """Text safe to store: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not has_surrogates(text):
        return text
    try:  # bytes smuggled in as surrogate escapes: decode them for real, lossy where invalid
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words in an ASCII header value."""
    if "=?" not in text:
        return text
    try:
        chunks = decode_header(text)
    except (HeaderParseError, ValueError, LookupError):
        return text
    out = []
    for chunk, charset in chunks:
        out.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset))
    return "".join(out)


def header_text(value: Any, fallback_charset: str | None = None) -> str:
    """A header value as one line of text (unfolded, encoded words decoded, never raising).

    Raw 8-bit bytes (which mail should not have in headers, but does) are read as UTF-8 when
    they are valid UTF-8, otherwise in ``fallback_charset`` (the message's own charset).
    """
    if value is None:
        return ""
    if isinstance(value, Header):
        data = b"".join(
            c if isinstance(c, bytes) else c.encode("utf-8", "surrogateescape")
            for c, _ in decode_header(value)
        )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = decode_bytes(data, fallback_charset)
    else:
        text = str(value)
        if has_surrogates(text):
            return header_text(Header(text, charset="unknown-8bit"), fallback_charset)
    text = _FOLD.sub("", text)
    if text.isascii():
        text = _decode_words(text)
    return _CONTROL.sub(" ", clean_text(text)).strip()


def ascii_header(value: Any) -> str:
    """A header that should be plain ASCII (ids, flags): unfolded, anything else replaced."""
    if value is None:
        return ""
    if isinstance(value, Header):
        return header_text(value)
    return _FOLD.sub("", str(value)).encode("ascii", "replace").decode("ascii").strip()


def address(value: Any, fallback_charset: str | None = None) -> tuple[str, str]:
    """``(display name, address)`` of a From-like header; ``("", "")`` when there is none."""
    if value is None:
        return "", ""
    ascii_text = isinstance(value, str) and value.isascii()
    raw = value if ascii_text else header_text(value, fallback_charset)
    raw = _FOLD.sub("", raw)
    name, addr = parseaddr(raw)
    if "@" not in addr:
        found = _BARE_ADDRESS.search(header_text(raw))
        addr = found.group(0) if found else ""
        name = ""
    addr = addr.strip().strip("<>")
    local, _, domain = addr.rpartition("@")
    addr = f"{local}@{domain.lower()}" if local and domain else ""
    return header_text(name)[:200], clean_text(addr)[:320]


def addresses(values: list[Any] | None) -> list[str]:
    """Every address named in some To/Cc-like headers, lower-cased."""
    found = []
    for _name, addr in getaddresses([ascii_header(v) for v in values or []]):
        if "@" in addr:
            found.append(addr.strip().lower())
    return found


def message_ids(value: Any) -> list[str]:
    """The ``<id>`` tokens of a Message-ID/In-Reply-To/References header, in order."""
    text = ascii_header(value)
    ids = [f"<{m}>" for m in _MSGID.findall(text)]
    if not ids:
        # Some mailers drop the angle brackets; an id still needs an "@" to be believed.
        ids = [f"<{t}>" for t in text.split() if "@" in t and len(t) < 900 and "<" not in t]
    return ids


def parse_date(value: Any) -> datetime | None:
    """The Date header as an aware UTC datetime, or ``None`` when missing or unreadable."""
    text = ascii_header(value)
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def derived_message_id(raw: bytes) -> str:
    """A stable Message-ID for mail without one: a hash of the message minus its trace headers.

    Trace headers (Received, Delivered-To, ...) differ between two deliveries of the same mail,
    so leaving them out keeps a re-delivery recognisable as a duplicate.
    """
    head, sep, body = _split_head(raw)
    kept: list[bytes] = []
    keep = True
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        keep = name not in TRACE_HEADERS
        if keep:
            kept.append(line)
    digest = hashlib.sha256(b"".join(kept) + sep + body).hexdigest()
    return f"<{digest[:40]}@derived.frontdesk.invalid>"


def _split_head(raw: bytes) -> tuple[bytes, bytes, bytes]:
    positions = [p for p in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if p >= 0]
    if not positions:
        return raw, b"", b""
    cut = min(positions)
    sep = b"\r\n\r\n" if raw[cut : cut + 4] == b"\r\n\r\n" else b"\n\n"
    return raw[:cut], sep, raw[cut + len(sep) :]
