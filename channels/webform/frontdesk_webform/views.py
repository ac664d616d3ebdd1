"""The form's pages: ``/<locale>/portal/webform/new``, its embeddable copy, the emailed link.

Signed in, a request becomes a ticket at once and the customer lands on it in the portal.
Anonymous (and always in the embedded form, where the browser sends no session), it waits until
its sender follows the emailed link. The embedded form cannot use the session's CSRF token, so
every form carries its own signed token (:mod:`.tokens`), checked on every POST.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from werkzeug.exceptions import RequestEntityTooLarge

from frontdesk.models import Queue, User
from frontdesk.services import ValidationFailed
from frontdesk.ui import access, current_actor

from .coreweb import RateLimited, check_rate_limit, csrf_exempt
from .embed import framed, post_origin_allowed
from .forms import (
    HONEYPOT,
    FormInput,
    field_name,
    offered_queues,
    public_fields,
    read_form,
    size_text,
    typed_values,
)
from .i18n import _, template_functions
from .schemas import settings
from .submissions import (
    ACCEPTED,
    Confirmation,
    NotDelivered,
    confirm,
    keep_pending,
    peek,
    send_now,
)
from .tokens import TokenProblem, issue_form_token, read_form_token

log = logging.getLogger(__name__)
FORM_ENDPOINTS = ("webform.new", "webform.embed")

bp = Blueprint(
    "webform", __name__, url_prefix="/<locale>/portal/webform", template_folder="templates"
)


@bp.url_value_preprocessor
def _known_locale(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if (values or {}).get("locale") not in current_app.config["LANGUAGES"]:
        abort(404)


@bp.url_defaults
def _current_locale(endpoint: str, values: dict[str, Any]) -> None:
    if "locale" not in values:
        locale = get_locale()
        values["locale"] = locale.language if locale else current_app.config["DEFAULT_LANGUAGE"]


@bp.context_processor
def _gettext() -> dict[str, Any]:
    return template_functions()


def _field_views(queue: Queue) -> list[dict[str, Any]]:
    return [
        {
            "name": field_name(queue, d),
            "label": d["label"],
            "type": d["type"],
            "required": d["required"],
            "options": [(choice, choice) for choice in d.get("choices") or []],
        }
        for d in public_fields(queue)
    ]


def render_form(
    *,
    embedded: bool,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    token: str | None = None,
    files_dropped: bool = False,
) -> ResponseReturnValue:
    queues = offered_queues()
    config = current_app.config
    page = render_template(
        "webform/embed.html" if embedded else "webform/new.html",
        form=values,
        errors=errors or {},
        queues=queues,
        queue_options=[(q.key, q.name) for q in queues],
        selected_queue=queues[0].key if len(queues) == 1 else values.get("queue", ""),
        fields_by_queue={q.key: _field_views(q) for q in queues},
        sender=None if embedded else current_actor(),
        form_token=token or issue_form_token(embedded=embedded),
        honeypot=HONEYPOT,
        embedded=embedded,
        files_dropped=files_dropped,
        action=url_for("webform.embed" if embedded else "webform.new"),
        max_bytes=config["MAX_ATTACHMENT_BYTES"],
        max_files=config["MAX_ATTACHMENTS_PER_MESSAGE"],
        max_request=config.get("MAX_CONTENT_LENGTH"),
        size_text=size_text,
    )
    return framed((page, status)) if embedded else (page, status)


def _blank_values() -> dict[str, str]:
    values = {key: "" for key in ("name", "email", "subject", "message")}
    values["queue"] = request.args.get("queue", "")
    return values


@bp.route("/new", methods=["GET", "POST"])
@access("public")
def new(locale: str) -> ResponseReturnValue:
    """The portal's "new request" form."""
    if request.method == "GET":
        return render_form(embedded=False, values=_blank_values())
    return _submit(embedded=False, locale=locale)


@bp.route("/embed", methods=["GET", "POST"])
@access("public")
@csrf_exempt
def embed(locale: str) -> ResponseReturnValue:
    """The same form for an iframe on another site (always anonymous: no session there)."""
    if request.method == "GET":
        return render_form(embedded=True, values=_blank_values())
    if not post_origin_allowed():
        log.warning("web form post refused from origin %r", request.headers.get("Origin"))
        page = render_template("webform/refused.html", embedded=True)
        return framed((page, 403))
    return _submit(embedded=True, locale=locale)


def _submit(*, embedded: bool, locale: str) -> ResponseReturnValue:
    form = request.form
    values = typed_values(form)
    sent_token = form.get("form_token", "")
    if form.get(HONEYPOT):
        # A robot filled the field people cannot see: it is told what a person would be.
        return _sent(embedded, values.get("email", ""))
    try:
        token = read_form_token(sent_token, embedded=embedded)
    except TokenProblem as problem:
        message = (
            _("This form was open for too long. Please check your request and send it again.")
            if problem.expired
            else _("The form could not be checked. Please send it again.")
        )
        return render_form(embedded=embedded, values=values, errors={"form": message}, status=400)
    actor = None if embedded else current_actor()
    data = read_form(form, request.files, actor=actor, queues=offered_queues())
    dropped = bool(data.files) or any(f.filename for f in request.files.getlist("attachments"))
    again = {"embedded": embedded, "values": values, "token": sent_token, "files_dropped": dropped}
    if data.errors:
        return render_form(errors=data.errors, status=422, **again)
    try:
        _check_limits(data.email)
    except RateLimited as exc:
        minutes = max(1, math.ceil((exc.retry_after or 60) / 60))
        message = _(
            "You sent many requests in a short time. Please try again in %(minutes)d minutes.",
            minutes=minutes,
        )
        return render_form(errors={"form": message}, status=429, **again)
    if actor is not None:
        return _send_signed_in(data, actor, token.delivery_id, locale, again)
    try:
        keep_pending(data, delivery_id=token.delivery_id, language=locale, embedded=embedded)
    except NotDelivered:
        message = _("We could not send you an email just now. Please try again later.")
        return render_form(errors={"form": message}, status=503, **again)
    except ValidationFailed:
        return render_form(
            errors={"email": _("Please enter a valid email address.")}, status=422, **again
        )
    return _sent(embedded, data.email)


def _check_limits(email: str) -> None:
    config = settings()
    check_rate_limit("webform-ip", request.remote_addr or "-", *config["rate_limit_per_ip"])
    check_rate_limit("webform-email", email.lower(), *config["rate_limit_per_email"])


def _send_signed_in(
    data: FormInput, actor: User, delivery_id: str, locale: str, again: dict[str, Any]
) -> ResponseReturnValue:
    outcome = send_now(data, delivery_id=delivery_id, language=locale, embedded=False)
    if outcome.action not in ACCEPTED or outcome.ticket is None:
        log.warning("web form request of user %s refused: %s", actor.id, outcome.describe())
        message = _("Your request could not be accepted. Please check it and try again.")
        return render_form(errors={"form": message}, status=422, **again)
    if outcome.action != "duplicate":
        flash(_("Your request is sent. We will answer you here."), "success")
    return redirect(url_for("portal.request_page", locale=locale, number=outcome.ticket.number))


def _sent(embedded: bool, email: str) -> ResponseReturnValue:
    page = render_template(
        "webform/sent.html",
        email=email,
        hours=settings()["verify_hours"],
        embedded=embedded,
    )
    return framed(page) if embedded else page


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """The whole upload exceeded ``MAX_CONTENT_LENGTH``: nothing of it could be read."""
    if request.endpoint not in FORM_ENDPOINTS:
        return error
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    message = _(
        "Your request is too large to be received: the files together can be at most "
        "%(limit)s. Please write your request again and attach fewer or smaller files.",
        limit=size_text(limit),
    )
    embedded = request.endpoint == "webform.embed"
    return render_form(
        embedded=embedded, values=_blank_values(), errors={"attachments": message}, status=413
    )


@bp.route("/verify/<token>", methods=["GET", "POST"])
@access("public")
def verify(locale: str, token: str) -> ResponseReturnValue:
    """The emailed link: a page with a button that confirms (mail scanners only GET links)."""
    if request.method == "POST":
        return _confirmed(confirm(token))
    pending = peek(token)
    if isinstance(pending, Confirmation):
        return _confirmed(pending)
    return render_template("webform/verify.html", submission=pending, token=token)


def _confirmed(result: Confirmation) -> ResponseReturnValue:
    if result.state in ("invalid", "expired"):
        return render_template("webform/link_invalid.html", expired=result.state == "expired"), 410
    if result.state == "refused" or result.ticket is None:
        return render_template("webform/refused.html", embedded=False), 422
    ticket = result.ticket
    actor = current_actor()
    if actor is not None and actor.id == ticket.customer_id:
        if result.state == "created":
            flash(_("Thank you: your request is confirmed."), "success")
        return redirect(url_for("portal.request_page", number=ticket.number))
    return render_template("webform/confirmed.html", ticket=ticket, state=result.state)
