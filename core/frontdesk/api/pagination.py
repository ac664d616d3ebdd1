"""Keyset pagination with opaque cursors: ``{"items": [...], "next_cursor": "..." | null}``.

A cursor holds the sort it was made for and the sort-key values of the last item returned; the
next page continues strictly after those values with a row-value comparison such as
``(updated_at, id) < (:u, :i)``, which an index on the same columns answers without counting or
skipping rows, however deep the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select, bindparam, tuple_

from frontdesk.api.errors import ApiError
from frontdesk.db import session


@dataclass(frozen=True)
class KeyColumn:
    """One column of a sort key: the SQL expression, how to read it off a row, its JSON kind."""

    expr: Any
    read: Callable[[Any], Any]
    kind: str = "int"  # "int", "str" or "datetime"


@dataclass(frozen=True)
class Keyset:
    """A total order (the last column must be unique, usually ``id``) and its direction."""

    name: str
    columns: Sequence[KeyColumn]
    descending: bool = False

    def order_by(self) -> list[Any]:
        return [c.expr.desc() if self.descending else c.expr.asc() for c in self.columns]

    def after(self, values: Sequence[Any]) -> Any:
        """Rows strictly after ``values`` (one per column) in this order."""
        return self._after(
            [
                bindparam(None, v, type_=c.expr.type)
                for c, v in zip(self.columns, values, strict=True)
            ]
        )

    def after_bound(self, prefix: str) -> Any:
        """Like :meth:`after`, with the values left to bind as ``<prefix>_0``, ``<prefix>_1``..."""
        return self._after(
            [bindparam(f"{prefix}_{i}", type_=c.expr.type) for i, c in enumerate(self.columns)]
        )

    def bound_values(self, prefix: str, values: Sequence[Any]) -> dict[str, Any]:
        """The parameters :meth:`after_bound` needs for ``values``."""
        return {f"{prefix}_{i}": v for i, v in enumerate(values)}

    def _after(self, right: list[Any]) -> Any:
        left = tuple_(*[c.expr for c in self.columns])
        return left < tuple_(*right) if self.descending else left > tuple_(*right)

    def encode(self, row: Any) -> str:
        values = [_to_json(c.read(row), c.kind) for c in self.columns]
        raw = json.dumps({"s": self.name, "k": values}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw)
            if data["s"] != self.name:
                raise _bad_cursor(f"this cursor was made for sort {data['s']!r}")
            values = data["k"]
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("wrong length")
            return [_from_json(v, c.kind) for c, v in zip(self.columns, values, strict=True)]
        except ApiError:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise _bad_cursor("not a cursor this API returned") from None


def _bad_cursor(message: str) -> ApiError:
    return ApiError(422, f"invalid cursor: {message}", {"cursor": [message]}, kind="invalid-input")


def _to_json(value: Any, kind: str) -> Any:
    if kind == "datetime" and not isinstance(value, str):  # rows may hold ISO text already
        return value.isoformat()
    return value


def _from_json(value: Any, kind: str) -> Any:
    if kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("not an integer")
    if kind == "str" and not isinstance(value, str):
        raise ValueError("not a string")
    return value


def page_limit(requested: int | None) -> int:
    """The page size asked for, checked against ``API_MAX_PAGE_SIZE``."""
    config = current_app.config
    maximum = int(config["API_MAX_PAGE_SIZE"])
    if requested is None:
        return min(int(config["API_PAGE_SIZE"]), maximum)
    if requested < 1 or requested > maximum:
        raise ApiError(
            422,
            f"limit must be between 1 and {maximum}",
            {"limit": [f"must be between 1 and {maximum}"]},
            kind="invalid-input",
        )
    return requested


def paginate(stmt: Select, keyset: Keyset, limit: int | None, cursor: str | None) -> dict[str, Any]:
    """Run ``stmt`` for one page: ``{"items": [...], "next_cursor": str | None}``."""
    size = page_limit(limit)
    if cursor:
        stmt = stmt.where(keyset.after(keyset.decode(cursor)))
    rows = list(session.scalars(stmt.order_by(*keyset.order_by()).limit(size + 1)))
    return page_from(rows, size, keyset)


def page_from(rows: list[Any], size: int, keyset: Keyset) -> dict[str, Any]:
    """The page of ``rows`` (fetched with ``LIMIT size + 1``, so one more says there is more)."""
    more = len(rows) > size
    items = rows[:size]
    return {"items": items, "next_cursor": keyset.encode(items[-1]) if more else None}


class PageArgsSchema(ma.Schema):
    """Query arguments of every paged list."""

    limit = ma.fields.Integer(metadata={"description": "Items per page (default 25)"})
    cursor = ma.fields.String(metadata={"description": "``next_cursor`` of the previous page"})


_PAGE_SCHEMAS: dict[str, type[ma.Schema]] = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A schema for one page of ``item_schema`` items (one class per item schema)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _PAGE_SCHEMAS:
        _PAGE_SCHEMAS[name] = type(
            name,
            (ma.Schema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_cursor": ma.fields.String(
                    allow_none=True,
                    required=True,
                    metadata={
                        "description": "Pass as ``cursor`` for the next page; null at the end"
                    },
                ),
            },
        )
    return _PAGE_SCHEMAS[name]


def id_keyset(model: Any, descending: bool = False) -> Keyset:
    """Order by primary key: the keyset of the simple lists (customers, queues, ...)."""
    return Keyset(
        "id" if not descending else "-id", [KeyColumn(model.id, lambda r: r.id)], descending
    )
