"""Finding quoted earlier mail and signatures in a plain-text body, so agents can fold them.

The full text is always kept. :func:`mark_quotes` only reports character offsets into it:
``quote_start`` (from here on the text is an earlier message), ``signature_start`` (the sender's
signature) and ``quoted_ranges`` (``[start, end)`` of ``>``-quoted blocks inside the reply).
"""

from __future__ import annotations

import re
from typing import Any

# "On <date>, <name> wrote:" and its cousins in the languages we serve (and a few neighbours).
_WROTE = re.compile(
    r"""^\s*(?:
        (?:On|Am|Le|Il|El|Op|Em|În|In|Den|Dne|W\s+dniu)\b.{0,300}?
            (?:wrote|schrieb|écrit|scritto|escribió|schreef|escreveu|scris|skrev|napsal|napisał)
            .{0,80}:
      | .{0,300}?(?:написал|написала|пишет|писал)\(?а?\)?\s*:
      | .{0,300}?نوشت(?:ه\s+است|ند)?\s*:
      | .{0,300}?\b(?:wrote|a\s+scris|ha\s+scritto)\s*:
    )\s*$""",
    re.I | re.X,
)
_WROTE_START = re.compile(r"^\s*(?:On|Am|Le|Il|El|Op|Em|În|In|Den|Dne|W\s+dniu)\b", re.I)
# Separators after which everything is the earlier message, quoted or not (Outlook, forwards).
_SEPARATOR = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:Original\s+Message|Forwarded\s+message|Ursprüngliche\s+Nachricht|
            Messaggio\s+originale|Messaggio\s+inoltrato|Mesaj(?:ul)?\s+original|
            Mesaj\s+redirecționat|Исходное\s+сообщение|Пересылаемое\s+сообщение|
            Message\s+d'origine|پیام\s+اصلی)\s*-{2,}
      | _{20,}
    )\s*$""",
    re.I | re.X,
)
_HEADER_LINE = re.compile(
    r"^\s*\*?(?:From|Da|De|Von|От|Od|از|Sent|Date|Data|Inviato|Gesendet|Trimis|Отправлено|"
    r"To|A|Către|Кому|Subject|Oggetto|Subiect|Betreff|Тема|موضوع)\s*\*?\s*:",
    re.I,
)
_FROM_LINE = re.compile(r"^\s*\*?(?:From|Da|De|Von|От|Od|از)\s*\*?\s*:\s*\S", re.I)
_SIG_DASHES = re.compile(r"^-- ?$")
_SIG_MOBILE = re.compile(
    r"^\s*(?:Sent\s+from\s+my\s|Get\s+Outlook\s+for\s|Inviato\s+da\s|Trimis\s+de\s+pe\s|"
    r"Отправлено\s+(?:с|из)\s|Envoyé\s+de\s+mon\s|Von\s+meinem\s|ارسال\s+شده\s+از)",
    re.I,
)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _outlook_block(lines: list[str], index: int) -> bool:
    """``From:`` followed closely by other header lines: an Outlook-style quoted message."""
    if not _FROM_LINE.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()]
    return sum(1 for line in following[:4] if _HEADER_LINE.match(line)) >= 2


def _attribution(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) form an attribution starting at ``index``; 0 if none."""
    line = lines[index].rstrip("\r\n")
    if _WROTE.match(line):
        return 1
    # Long attributions wrap onto a second line ("On Mon, 1 Jan 2024, Ann <a@b.c>\nwrote:").
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if len(line) < 200 and _WROTE_START.match(line) and not _is_quoted(following):
        joined = line + " " + lines[index + 1].strip()
        if _WROTE.match(joined):
            return 2
    return 0


def mark_quotes(text: str) -> dict[str, Any]:
    """Offsets of the quoted tail, the signature and inner quoted blocks of ``text``."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    found: dict[str, Any] = {}
    tail = _quoted_tail(lines)
    if tail is not None and any(line.strip() for line in lines[:tail]):
        found["quote_start"] = offsets[tail]
    end = tail if "quote_start" in found else len(lines)
    signature = _signature(lines, end)
    if signature is not None:
        found["signature_start"] = offsets[signature]
    ranges = []
    index = 0
    while index < end:
        if _is_quoted(lines[index]):
            start = index
            while index < end and (_is_quoted(lines[index])):
                index += 1
            ranges.append([offsets[start], offsets[index]])
        else:
            index += 1
    if ranges:
        found["quoted_ranges"] = ranges
    return found


def _quoted_tail(lines: list[str]) -> int | None:
    """The first line of the earlier message quoted below the reply, if there is one."""
    for index, line in enumerate(lines):
        if _SEPARATOR.match(line) or _outlook_block(lines, index):
            return index
        size = _attribution(lines, index)
        if size and _only_quotes_after(lines, index + size):
            return index
    # No attribution: a block of ">" lines running to the end is the quoted tail.
    index = len(lines)
    while index > 0 and (not lines[index - 1].strip() or _is_quoted(lines[index - 1])):
        index -= 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index if index < len(lines) else None


def _only_quotes_after(lines: list[str], start: int) -> bool:
    rest = [line for line in lines[start:] if line.strip()]
    return bool(rest) and all(_is_quoted(line) for line in rest)


def _signature(lines: list[str], end: int) -> int | None:
    content = [i for i in range(end) if lines[i].strip()]
    for index in content[1:]:  # a signature follows some text of the message itself
        if _SIG_DASHES.match(lines[index].rstrip("\r\n")):
            return index
    for index in content[-2:]:
        if _SIG_MOBILE.match(lines[index]) and index != content[0]:
            return index
    return None
