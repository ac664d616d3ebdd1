"""@mentions in internal notes: who is named, the note that records them, and their notices.

An agent is mentioned as ``@localpart`` (the part of their email address before the ``@``) or as
``@"Full Name"``. Only active agents and admins can be mentioned; names that match nobody are
returned so the page can say so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, or_, select

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session, transaction
from frontdesk.i18n import _
from frontdesk.models import Message, Ticket, User
from frontdesk.services.errors import ValidationFailed
from frontdesk.services.history import record_event
from frontdesk.services.messages import add_message

log = logging.getLogger(__name__)

# "@ann" but not the "@" inside "ann@example.org"; a quoted form for names with spaces.
_QUOTED = re.compile(r'(?<![\w@])@"([^"\r\n]{1,200})"')
_LOCALPART = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})(?![\w@])")
STAFF_ROLES = ("admin", "agent")


@dataclass
class Mentions:
    """The outcome of resolving a text's mentions: the agents found and the names nobody has."""

    users: list[User] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def parse_mentions(text: str) -> list[str]:
    """The mention tokens of ``text`` in order of appearance, without repeats.

    A quoted mention comes back with its quotes (``'"Ann Lee"'``), so callers can tell a name
    from a local part.
    """
    found: list[tuple[int, str]] = []
    for match in _QUOTED.finditer(text or ""):
        name = " ".join(match.group(1).split())
        if name:
            found.append((match.start(), f'"{name}"'))
    for match in _LOCALPART.finditer(text or ""):
        found.append((match.start(), match.group(1).rstrip(".")))
    tokens = [token for _, token in sorted(found)]
    return list(dict.fromkeys(t for t in tokens if t and t != '""'))


def resolve_mentions(tokens: Sequence[str]) -> Mentions:
    """Match tokens to active agents: a local part to their address, a quoted name to their name."""
    result = Mentions()
    if not tokens:
        return result
    local = {t.lower() for t in tokens if not t.startswith('"')}
    names = {t[1:-1].casefold() for t in tokens if t.startswith('"')}
    clauses = []
    if local:
        email = func.lower(User.email)
        clauses.extend(email.like(f"{_escape_like(p)}@%", escape="\\") for p in local)
    if names:
        clauses.append(func.lower(User.name).in_(sorted(names)))
    candidates = session.scalars(
        select(User)
        .where(User.role.in_(STAFF_ROLES), User.is_active.is_(True), or_(*clauses))
        .order_by(User.id)
    ).all()
    matched: dict[str, list[User]] = {}
    for user in candidates:
        localpart = user.email.rpartition("@")[0].lower()
        if localpart in local:
            matched.setdefault(localpart, []).append(user)
        if user.name and user.name.casefold() in names:
            matched.setdefault(f'"{user.name.casefold()}"', []).append(user)
    seen: set[int] = set()
    for token in tokens:
        key = f'"{token[1:-1].casefold()}"' if token.startswith('"') else token.lower()
        users = matched.get(key, [])
        if not users:
            result.unknown.append(token)
        for user in users:
            if user.id not in seen:
                seen.add(user.id)
                result.users.append(user)
    return result


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def add_note_with_mentions(
    ticket: Ticket,
    body_text: str,
    actor: User,
    *,
    attachments: Sequence[IncomingAttachment] = (),
) -> tuple[Message, Mentions]:
    """An internal note whose mentioned agents are recorded on the note and in the history.

    The note and the record of who was mentioned are written in one transaction; notices go out
    afterwards with :func:`notify_mentioned`.
    """
    if not actor.is_staff:
        raise ValidationFailed("only agents can write internal notes", {"kind": ["agents only"]})
    mentions = resolve_mentions(parse_mentions(body_text))
    meta = {}
    if mentions.users:
        meta["mentions"] = [{"id": u.id, "name": u.name or u.email} for u in mentions.users]
    with transaction():
        note = add_message(
            ticket,
            kind="internal_note",
            body_text=body_text,
            author=actor,
            actor=actor,
            channel="web",
            attachments=attachments,
            meta=meta,
        )
        if mentions.users:
            record_event(
                ticket,
                "mentioned",
                actor,
                field="mentions",
                new={"message_id": note.id, "users": [u.id for u in mentions.users]},
            )
    return note, mentions


def notify_mentioned(
    ticket: Ticket, note: Message, users: Sequence[User], actor: User, url: str | None
) -> list[User]:
    """Send each mentioned agent (but the author) a ``mention`` notice; returns who got none.

    Each notice is in the recipient's language; a plugin that fails is logged, and its recipient
    is reported as not notified.
    """
    hook = current_app.extensions["frontdesk"].hook
    missed = []
    who = actor.name or actor.email
    for user in users:
        if user.id == actor.id:
            continue
        with force_locale(user.language or current_app.config["DEFAULT_LANGUAGE"]):
            subject = _("%(name)s mentioned you on %(number)s", name=who, number=ticket.number)
            text = _(
                "%(name)s mentioned you in an internal note on %(number)s (%(subject)s):",
                name=who,
                number=ticket.number,
                subject=ticket.subject,
            )
            text = f"{text}\n\n{note.body_text}"
        try:
            sent = hook.deliver_notice(
                recipient=user, kind="mention", subject=subject, text=text, url=url
            )
        except Exception:
            log.exception("mention notice to user %s failed", user.id)
            sent = None
        if not sent:
            missed.append(user)
    return missed
