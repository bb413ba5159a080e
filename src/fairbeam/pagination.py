"""Keyset pagination: a cursor is the sort key of the last row a page showed."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, tuple_

from fairbeam.db.base import as_utc
from fairbeam.errors import InvalidInput

DEFAULT_LIMIT = 50
BAD_CURSOR = "cursor is not valid: pass the `next` value of the previous page unchanged"


def encode_cursor(values: Sequence[Any]) -> str:
    """A URL-safe cursor for the row whose sort key is ``values``."""
    plain = [
        {"t": as_utc(value).isoformat()} if isinstance(value, datetime) else value
        for value in values
    ]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key inside ``cursor``; a cursor not made by this server is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw)
        if not isinstance(plain, list) or len(plain) != size:
            raise ValueError("wrong shape")
        values = [
            as_utc(datetime.fromisoformat(value["t"])) if isinstance(value, dict) else value
            for value in plain
        ]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ValueError("a NUL character")
        return values
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise InvalidInput(BAD_CURSOR) from exc


def after(columns: Sequence[Any], values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (all one direction).

    A row-value comparison, which both engines run as one index range scan.
    """
    for column, value in zip(columns, values, strict=True):
        if not isinstance(value, column.type.python_type):
            raise InvalidInput(BAD_CURSOR)
    key = tuple_(*columns)
    bound = tuple_(*[literal(v, type_=c.type) for c, v in zip(columns, values, strict=True)])
    return key < bound if descending else key > bound


def check_limit(limit: int, maximum: int = 1000) -> int:
    """A page size between 1 and ``maximum``."""
    if limit < 1 or limit > maximum:
        raise InvalidInput(f"limit must be between 1 and {maximum}, got {limit}")
    return limit
