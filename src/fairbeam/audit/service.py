"""Writing audit records inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from fairbeam.audit.models import AuditRecord
from fairbeam.db.base import utcnow


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: object,
    *,
    actor_id: int | None = None,
    actor: str = "system",
    **detail: Any,
) -> AuditRecord:
    """Add an audit record; it commits or rolls back with the change it describes."""
    entry = AuditRecord(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        actor_id=actor_id,
        actor=actor,
        detail=detail,
    )
    session.add(entry)
    return entry


def record_all(
    session: Session,
    action: str,
    object_type: str,
    entries: Iterable[tuple[object, dict[str, Any]]],
    *,
    actor_id: int | None = None,
    actor: str = "system",
) -> None:
    """Add one record per (object id, detail) of the same action, in one statement: for a
    step that changes many objects at once (an archive batch)."""
    rows = [
        {
            "at": utcnow(),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "detail": detail,
        }
        for object_id, detail in entries
    ]
    if rows:
        session.connection().execute(insert(cast(Table, AuditRecord.__table__)), rows)
