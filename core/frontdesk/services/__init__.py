"""Services (public API): the only code that writes tickets, messages and people.

Each service validates, changes state inside one transaction, records history and queues its
lifecycle events to fire after commit.
"""

from __future__ import annotations

from frontdesk.services.access import (
    can_edit_ticket,
    can_view_ticket,
    has_permission,
    is_participant,
    visible_tickets_clause,
)
from frontdesk.services.attachments import read_blob, sanitize_filename, write_blob
from frontdesk.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    StaleVersion,
    TooLarge,
    TransitionRefused,
    ValidationFailed,
)
from frontdesk.services.history import record_change, record_event
from frontdesk.services.html import html_to_text, sanitize_html
from frontdesk.services.inbound import receive_inbound
from frontdesk.services.messages import add_message, deliver_message
from frontdesk.services.people import (
    authenticate,
    create_organization,
    create_queue,
    create_user,
    find_user_by_email,
    get_or_create_customer,
    set_password,
    update_organization,
    update_queue,
    update_user,
)
from frontdesk.services.relations import (
    add_watcher,
    link_tickets,
    merge_tickets,
    remove_watcher,
    split_ticket,
    ticket_links,
    unlink_tickets,
)
from frontdesk.services.tickets import (
    add_note,
    add_tags,
    assign,
    change_status,
    create_ticket,
    next_sequence,
    remove_tags,
    reply,
    update_ticket,
)
from frontdesk.services.tokens import create_api_token, revoke_api_token, user_for_token

from frontdesk.services.custom_fields import validate_values as validate_custom_fields  # noqa: E402

__all__ = [
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "ServiceError",
    "StaleVersion",
    "TooLarge",
    "TransitionRefused",
    "ValidationFailed",
    "add_message",
    "add_note",
    "add_tags",
    "add_watcher",
    "assign",
    "authenticate",
    "can_edit_ticket",
    "can_view_ticket",
    "change_status",
    "create_api_token",
    "create_organization",
    "create_queue",
    "create_ticket",
    "create_user",
    "deliver_message",
    "find_user_by_email",
    "get_or_create_customer",
    "has_permission",
    "html_to_text",
    "is_participant",
    "link_tickets",
    "merge_tickets",
    "next_sequence",
    "read_blob",
    "receive_inbound",
    "record_change",
    "record_event",
    "remove_tags",
    "remove_watcher",
    "reply",
    "revoke_api_token",
    "sanitize_filename",
    "validate_custom_fields",
    "sanitize_html",
    "set_password",
    "split_ticket",
    "ticket_links",
    "unlink_tickets",
    "update_organization",
    "update_queue",
    "update_ticket",
    "update_user",
    "user_for_token",
    "visible_tickets_clause",
    "write_blob",
]
