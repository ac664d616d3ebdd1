"""Anonymous requests: kept pending, confirmed by an emailed link, then handed to the core.

Nothing of a pending request is visible to agents: it becomes a ticket only when its sender
follows the link (through ``receive_inbound``, like any channel's message). The link is single
use in effect: the submission's delivery id is the message's ``external_id``, so a second click,
even a concurrent one, finds the ticket the first one made.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from frontdesk.channels.base import InboundMessage, InboundOutcome, IncomingAttachment
from frontdesk.db import session, transaction, utcnow
from frontdesk.jobs import PeriodicTask
from frontdesk.models import Queue, Ticket, User
from frontdesk.services import (
    ValidationFailed,
    get_or_create_customer,
    receive_inbound,
    sanitize_filename,
)

from .channel import inbound_message
from .coreweb import validate_custom_fields
from .forms import FormInput
from .i18n import _
from .models import Submission, Upload
from .schemas import settings

log = logging.getLogger(__name__)
PURGE_TASK = PeriodicTask(
    name="webform.purge", func="frontdesk_webform.submissions.purge_expired", seconds=3600
)
ACCEPTED = ("created", "appended", "duplicate")


class NotDelivered(Exception):
    """No plugin could deliver the confirmation mail: nothing of the request was kept."""


@dataclass(frozen=True)
class Confirmation:
    """What following a link did: ``created`` (or ``already`` done) a ticket, or why not."""

    state: Literal["created", "already", "expired", "invalid", "refused"]
    ticket: Ticket | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def find_submission(token: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.token_sha256 == token_digest(token)))


def send_now(data: FormInput, *, delivery_id: str, language: str, embedded: bool) -> InboundOutcome:
    """A signed-in customer's request: a ticket at once, through the channel contract."""
    return receive_inbound(
        inbound_message(
            delivery_id=delivery_id,
            email=data.email,
            name=data.name,
            subject=data.subject,
            body=data.body,
            language=language,
            queue_key=data.queue.key if data.queue else None,
            custom_fields=data.custom_fields,
            attachments=data.files,
            embedded=embedded,
        )
    )


def keep_pending(data: FormInput, *, delivery_id: str, language: str, embedded: bool) -> None:
    """Keep an anonymous request and mail its sender the link that confirms it.

    A form sent again (same delivery id) is kept once and mailed once. Raises
    :class:`NotDelivered`, keeping nothing, when no plugin can deliver the mail.
    """
    token = secrets.token_urlsafe(32)
    try:
        with transaction():
            if _delivered_before(delivery_id):
                return
            customer = get_or_create_customer(data.email, data.name, language=language)
            if not customer.is_active:
                return  # answered like everyone else; a closed account gets no mail
            submission = Submission(
                delivery_id=delivery_id,
                token_sha256=token_digest(token),
                customer_id=customer.id,
                email=customer.email,
                name=data.name,
                subject=data.subject,
                body=data.body,
                queue_key=data.queue.key if data.queue else None,
                custom_fields=dict(data.custom_fields),
                language=language,
                meta={"embedded": embedded},
                expires_at=utcnow() + timedelta(hours=settings()["verify_hours"]),
                uploads=[_upload(index, item) for index, item in enumerate(data.files, start=1)],
            )
            session.add(submission)
            session.flush()
            _send_link(customer, submission, token, language)
    except IntegrityError:
        if not _delivered_before(delivery_id):
            raise
        # The same form sent twice at once: the other request kept it and mailed the link.


def _delivered_before(delivery_id: str) -> bool:
    found = select(Submission.id).where(Submission.delivery_id == delivery_id)
    return session.scalar(found) is not None


def _upload(position: int, item: IncomingAttachment) -> Upload:
    return Upload(
        position=position,
        filename=sanitize_filename(item.filename, fallback=f"attachment-{position}"),
        media_type=(item.media_type or "application/octet-stream")[:255],
        size=len(item.data),
        data=item.data,
    )


def _send_link(customer: User, submission: Submission, token: str, language: str) -> None:
    url = url_for("webform.verify", locale=language, token=token, _external=True)
    hours = settings()["verify_hours"]
    with force_locale(language):
        subject = _("Confirm your request: %(subject)s", subject=submission.subject[:120])
        text = _(
            'Hello %(name)s,\n\nwe received your request "%(subject)s". Open the link below '
            "to confirm your email address: only then does the request reach our team. The link "
            "works once and expires in %(hours)d hours.\n\nIf you did not write to us, ignore "
            "this message: without the link nothing is sent.",
            name=submission.name or customer.email,
            subject=submission.subject,
            hours=hours,
        )
    hook = current_app.extensions["frontdesk"].hook
    sent = hook.deliver_notice(
        recipient=customer, kind="request_verification", subject=subject, text=text, url=url
    )
    if not sent:
        raise NotDelivered()


def peek(token: str) -> Confirmation | Submission:
    """The pending submission of ``token``, or what became of its link (without changing it)."""
    submission = find_submission(token)
    if submission is None:
        return Confirmation("invalid")
    if submission.ticket_id is not None:
        return Confirmation("already", session.get(Ticket, submission.ticket_id))
    if submission.verified_at is not None:
        return Confirmation("invalid")  # confirmed, and its ticket deleted since
    if submission.expires_at <= utcnow():
        return Confirmation("expired")
    return submission


def confirm(token: str) -> Confirmation:
    """Turn the submission of ``token`` into a ticket (once), if the link is valid and fresh."""
    submission = peek(token)
    if isinstance(submission, Confirmation):
        return submission
    outcome = receive_inbound(_inbound(submission))
    if outcome.action not in ACCEPTED or outcome.ticket is None:
        log.warning("web form submission %s refused: %s", submission.id, outcome.describe())
        return Confirmation("refused")
    with transaction():
        first = submission.ticket_id is None
        submission.verified_at = submission.verified_at or utcnow()
        submission.ticket_id = outcome.ticket.id
        submission.uploads = []  # the ticket holds the files now
    created = first and outcome.action != "duplicate"
    return Confirmation("created" if created else "already", outcome.ticket)


def _inbound(submission: Submission) -> InboundMessage:
    queue = None
    if submission.queue_key:
        queue = session.scalar(
            select(Queue).where(Queue.key == submission.queue_key, Queue.is_active.is_(True))
        )
    body, values = submission.body, dict(submission.custom_fields or {})
    if values:
        try:
            values = validate_custom_fields(queue, values)
        except ValidationFailed:
            # The queue's fields changed while the link was waiting: keep the answers as text.
            lines = "\n".join(f"{key}: {value}" for key, value in sorted(values.items()))
            body, values = f"{body}\n\n--\n{lines}", {}
    return inbound_message(
        delivery_id=submission.delivery_id,
        email=submission.email,
        name=submission.name,
        subject=submission.subject,
        body=body,
        language=submission.language,
        queue_key=queue.key if queue else None,
        custom_fields=values,
        attachments=[
            IncomingAttachment(filename=u.filename, data=u.data, media_type=u.media_type)
            for u in submission.uploads
        ],
        embedded=bool((submission.meta or {}).get("embedded")),
    )


def purge_expired() -> int:
    """Periodic job: forget submissions whose link expired (with their files); how many."""
    with transaction():
        result = session.execute(
            delete(Submission)
            .where(Submission.expires_at <= utcnow())
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0
