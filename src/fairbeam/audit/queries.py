"""Reading the audit trail: filters, pages and a streamed export in batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.policy import Principal, require_manager
from fairbeam.audit.models import AuditRecord
from fairbeam.audit.schemas import AuditOut
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.service import paginate
from fairbeam.errors import InvalidInput

EXPORT_BATCH = 1000
COLUMNS = ("id", "at", "actor", "actor_id", "action", "object_type", "object_id", "detail")
FORMATS = ("csv", "json")


@dataclass
class AuditFilters:
    """Filters of the audit trail."""

    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> Select[Any]:
        """The records these filters select."""
        query = select(AuditRecord)
        for column, value in (
            (AuditRecord.action, self.action),
            (AuditRecord.object_type, self.object_type),
            (AuditRecord.object_id, self.object_id),
            (AuditRecord.actor, self.actor),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(AuditRecord.at >= self.since)
        if self.until is not None:
            query = query.where(AuditRecord.at < self.until)
        return query


NEWEST_FIRST = (("id",), True)


def audit_out(row: AuditRecord) -> AuditOut:
    """The API view of a record."""
    return AuditOut(
        id=row.id,
        at=row.at,
        actor=row.actor,
        actor_id=row.actor_id,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        detail=row.detail or {},
    )


def _records(sessions: sessionmaker[Session], filters: AuditFilters) -> Iterator[AuditOut]:
    """Every selected record, newest first, a keyset batch per short transaction."""
    cursor = None
    while True:
        with sessions() as session:
            rows, cursor = paginate(
                session, filters.query(), AuditRecord, NEWEST_FIRST, EXPORT_BATCH, cursor
            )
            batch = [audit_out(r) for r in rows]
        yield from batch
        if cursor is None:
            return


def _csv(records: Iterator[AuditOut]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, record in enumerate(records, 1):
        data = record.model_dump(mode="json")
        data["detail"] = json.dumps(data["detail"], sort_keys=True)
        writer.writerow([data[c] if data[c] is not None else "" for c in COLUMNS])
        if count % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(records: Iterator[AuditOut]) -> Iterator[str]:
    yield "["
    for count, record in enumerate(records):
        yield ("," if count else "") + "\n" + record.model_dump_json()
    yield "\n]\n"


def list_audit(
    session: Session, principal: Principal, filters: AuditFilters, limit: int, cursor: str | None
) -> Page[AuditOut]:
    """A page of the audit trail, newest first (managers)."""
    require_manager(principal)
    rows, next_cursor = paginate(session, filters.query(), AuditRecord, NEWEST_FIRST, limit, cursor)
    return Page(items=[audit_out(r) for r in rows], next=next_cursor)


def export_audit(
    sessions: sessionmaker[Session], principal: Principal, filters: AuditFilters, format: str
) -> Iterator[str]:
    """The selected records as CSV or JSON text, produced as it is sent (managers)."""
    require_manager(principal)
    if format not in FORMATS:
        raise InvalidInput(f"format {format!r} is not known; use csv or json")
    records = _records(sessions, filters)
    return _csv(records) if format == "csv" else _json(records)
