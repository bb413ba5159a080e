"""What the audit API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="Who: a username, or `policy`/`system` for fairbeam.")
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
