"""What the restore routes answer (shared with the Python client)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RestoreOut(BaseModel):
    """A restore request and where it stands."""

    id: int
    dataset: int
    status: str  # queued, running, done or failed
    created: datetime
    started: datetime | None
    finished: datetime | None
    error: str  # why it failed; empty otherwise
