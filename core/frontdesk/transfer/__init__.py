"""Import and export of a whole helpdesk as JSON Lines (the interchange format).

``export_dump`` writes organizations, users, queues and tickets (with messages, attachments and
history); ``import_dump`` reads such a file back, idempotently. ``docs/interchange.md`` describes
the format field by field.
"""

from __future__ import annotations

from frontdesk.transfer.export import ExportReport, count_tickets, export_dump
from frontdesk.transfer.format import (
    DEFAULT_MAX_LINE_BYTES,
    FORMAT_NAME,
    FORMAT_VERSION,
    RecordError,
    parse_since,
)
from frontdesk.transfer.importing import ImportAborted, ImportReport, import_dump

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ExportReport",
    "ImportAborted",
    "ImportReport",
    "RecordError",
    "count_tickets",
    "export_dump",
    "import_dump",
    "parse_since",
]
