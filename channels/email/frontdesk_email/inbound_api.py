"""Admin API over inbound mail: recent outcomes with filters, one record, its raw bytes, re-run.

``/api/v1/email/inbound``; admins only. Errors are problem+json like the rest of the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import UnprocessableEntity

from frontdesk.db import session
from frontdesk.services import ServiceError
from frontdesk.ui import access

from .ingest import TemporaryFailure, raw_message, reprocess
from .models import InboundRecord, Mailbox
from .schemas import InboundFilterSchema, InboundRecordSchema

blueprint = Blueprint("email_inbound", __name__, url_prefix="/api/v1/email/inbound")
record_schema = InboundRecordSchema()
CSRF_HEADER, CSRF_VALUE = "X-Requested-With", "frontdesk"


@blueprint.after_request
def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _invalid(errors: dict[str, Any]) -> UnprocessableEntity:
    error = UnprocessableEntity()
    error.data = {"errors": errors}  # rendered as problem+json with the field errors
    return error


def _record(record_id: int) -> InboundRecord:
    record = session.get(InboundRecord, record_id)
    if record is None:
        abort(404, description=f"no inbound message #{record_id}")
    return record


@blueprint.get("")
@access("admin")
def list_records() -> Response:
    """Recent inbound messages, newest first; filter by outcome, mailbox, sender and dates."""
    try:
        args = InboundFilterSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise _invalid(exc.normalized_messages()) from None
    query = select(InboundRecord).order_by(InboundRecord.id.desc()).limit(args["limit"] + 1)
    if "outcome" in args:
        query = query.where(InboundRecord.outcome == args["outcome"])
    if "mailbox" in args:
        query = query.join(Mailbox, InboundRecord.mailbox_id == Mailbox.id).where(
            Mailbox.key == args["mailbox"]
        )
    if "sender" in args:
        query = query.where(InboundRecord.sender == args["sender"].strip())
    if "since" in args:
        query = query.where(InboundRecord.received_at >= args["since"])
    if "until" in args:
        query = query.where(InboundRecord.received_at < args["until"])
    if "before" in args:
        query = query.where(InboundRecord.id < args["before"])
    rows = list(session.scalars(query))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return jsonify(
        {
            "items": record_schema.dump(rows, many=True),
            "next_before": rows[-1].id if more and rows else None,
        }
    )


@blueprint.get("/<int:record_id>")
@access("admin")
def get_record(record_id: int) -> Response:
    return jsonify(record_schema.dump(_record(record_id)))


@blueprint.get("/<int:record_id>/raw")
@access("admin")
def get_raw(record_id: int) -> Response:
    """The message exactly as received, as a download (never rendered by the browser)."""
    record = _record(record_id)
    data = raw_message(record)
    if data is None:
        abort(410, description=f"the raw bytes of inbound message #{record_id} are gone")
    response = Response(data, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="inbound-{record.id}.eml"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blueprint.post("/<int:record_id>/reprocess")
@access("admin")
def reprocess_record(record_id: int) -> tuple[Response, int]:
    """Run the stored raw message again (after a fix); the new outcome is a new record."""
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        # A browser sends this header cross-origin only after a CORS preflight we never grant.
        if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
            abort(403, description=f"send the header '{CSRF_HEADER}: {CSRF_VALUE}'")
    record = _record(record_id)
    try:
        fresh = reprocess(record)
    except ServiceError as exc:
        abort(409, description=exc.detail)
    except TemporaryFailure as exc:
        abort(503, description=f"temporarily unavailable: {exc}")
    return jsonify(record_schema.dump(fresh)), 201
