"""Writing new events' rows in bulk: COPY on PostgreSQL, multi-row INSERT on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from fairbeam.catalogue.bulk import copy_rows, dialect_name, insert_with_new_ids
from fairbeam.db.base import as_utc
from fairbeam.logbook.models import LogbookEvent, LogbookTag

EVENT_COLUMNS = (
    "logbook_id",
    "sequence",
    "investigation_id",
    "instrument_id",
    "created",
    "updated",
    "version",
    "deleted",
    "author_id",
    "author_name",
    "author_kind",
    "type",
    "category",
    "format",
    "content",
    "html",
    "search_text",
    "tags",
    "dataset_id",
    "sample_id",
    "datafile_id",
    "idempotency_key",
)


_TAGS = EVENT_COLUMNS.index("tags")
_TIMES = (EVENT_COLUMNS.index("created"), EVENT_COLUMNS.index("updated"))


def _copy_row(row: dict[str, Any]) -> tuple[Any, ...]:
    # COPY skips the column types, so JSON goes as text and times in their stored
    # form (naive UTC); the search vector is a generated column and fills itself.
    values = [row[c] for c in EVENT_COLUMNS]
    values[_TAGS] = json.dumps(values[_TAGS])
    for i in _TIMES:
        values[i] = as_utc(values[i]).replace(tzinfo=None)
    return tuple(values)


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert event rows (every column of EVENT_COLUMNS); their new ids in order."""
    table = cast(Table, LogbookEvent.__table__)
    if dialect_name(session) == "postgresql":
        values = [_copy_row(row) for row in rows]
    else:
        values = [tuple(row[c] for c in EVENT_COLUMNS) for row in rows]
    # A logbook's sequence numbers are unique, so they match SQLite's ids to rows.
    return insert_with_new_ids(session, table, EVENT_COLUMNS, values, ("logbook_id", "sequence"))


def insert_tags(session: Session, tags: list[tuple[int, str]]) -> None:
    """Insert (event id, tag) rows."""
    if not tags:
        return
    if dialect_name(session) == "postgresql":
        copy_rows(session, "logbook_tag", ("event_id", "tag"), tags)
        return
    session.execute(insert(LogbookTag), [{"event_id": e, "tag": t} for e, t in tags])
