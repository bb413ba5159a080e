"""Writing audit records inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fairbeam.audit.models import AuditRecord


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
