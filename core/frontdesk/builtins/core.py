"""The core's default answers to the decision hooks; every one is ``trylast`` so plugins win."""

from __future__ import annotations

import re
from typing import Any

from flask import Request, current_app, session as http_session
from sqlalchemy import select

from frontdesk.channels.base import InboundMessage, ThreadMatch
from frontdesk.db import read, session
from frontdesk.i18n import _l
from frontdesk.models import Queue, Ticket, User
from frontdesk.plugins import Permission, hookimpl

CORE_PERMISSIONS = (
    Permission("tickets.view", _l("See tickets"), ("admin", "agent", "customer")),
    Permission("tickets.create", _l("Open tickets"), ("admin", "agent", "customer")),
    Permission("tickets.edit", _l("Change tickets"), ("admin", "agent")),
    Permission("tickets.merge", _l("Merge and split tickets"), ("admin", "agent")),
    Permission("people.view", _l("See customers and organizations"), ("admin", "agent")),
    Permission("people.edit", _l("Change customers and organizations"), ("admin", "agent")),
    Permission("admin.manage", _l("Manage queues, agents and settings"), ("admin",)),
    Permission("tokens.manage", _l("Manage one's own API tokens"), ("admin", "agent", "customer")),
    Permission("views.share", _l("Share saved views with every agent"), ("admin",)),
)


@hookimpl(trylast=True)
def register_permissions() -> list[Permission]:
    return list(CORE_PERMISSIONS)


@hookimpl(trylast=True)
def ticket_number(ticket: Ticket, sequence: int) -> str:
    return f"{current_app.config['TICKET_NUMBER_PREFIX']}{sequence}"


_queues = Queue.__table__
# Built once: a statement made per call is compiled (or looked up in the cache) every time.
_FIRST_ACTIVE_QUEUE = (
    select(_queues.c.id).where(_queues.c.is_active.is_(True)).order_by(_queues.c.id).limit(1)
)


@hookimpl(trylast=True)
def select_queue(ticket: Ticket) -> Queue | None:
    """The first active queue; its object comes from the session when it is loaded already."""
    queue_id = read(_FIRST_ACTIVE_QUEUE).scalar()
    return session.get(Queue, queue_id) if queue_id is not None else None


@hookimpl(trylast=True)
def customer_lookup(email: str, name: str, channel: str) -> User:
    from frontdesk.services.people import get_or_create_customer

    return get_or_create_customer(email, name)


def subject_tag_pattern() -> re.Pattern[str]:
    """The configured subject tag (``[Ticket#{number}]``) as a regex capturing the number."""
    template = current_app.config["SUBJECT_TAG"]
    before, _, after = template.partition("{number}")
    return re.compile(re.escape(before) + r"\s*([A-Za-z0-9_-]{1,32})\s*" + re.escape(after), re.I)


@hookimpl(trylast=True)
def inbound_message_thread(message: InboundMessage) -> ThreadMatch | None:
    match = subject_tag_pattern().search(message.subject or "")
    if not match:
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.number == match.group(1)))
    if ticket is None:
        return None
    return ThreadMatch(ticket, f"subject tag {match.group(0)}")


@hookimpl(trylast=True)
def actor_from_request(request: Request) -> User | None:
    from frontdesk.services.tokens import user_for_token

    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return user_for_token(header[7:].strip())
    user_id = http_session.get("user_id")
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active or http_session.get("auth_epoch") != _epoch(user):
        return None
    return user


def _epoch(user: User) -> str:
    # Changes when the password changes, so other sessions of the user end with it.
    return (user.password_hash or "")[-16:]


@hookimpl(trylast=True)
def permission_check(actor: User | None, permission: str, obj: Any) -> bool:
    if actor is None or not actor.is_active:
        return False
    registry = current_app.extensions["frontdesk.registry"]
    perm = registry.permissions.get(permission)
    if perm is None:
        return False
    if actor.role not in perm.roles:
        return False
    if isinstance(obj, Ticket):
        from frontdesk.services.access import can_edit_ticket, can_view_ticket

        return can_view_ticket(actor, obj) if permission == "tickets.view" else (
            can_edit_ticket(actor, obj) or permission in ("tickets.create",)
        )
    return True


@hookimpl(trylast=True)
def locale_selector(request: Request, user: User | None) -> str | None:
    languages = current_app.config["LANGUAGES"]
    view_args = request.view_args or {}
    if view_args.get("locale") in languages:
        return view_args["locale"]
    if user is not None and user.language in languages:
        return user.language
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]
