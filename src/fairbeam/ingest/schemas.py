"""What the harvest API takes and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class IngestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1, max_length=1000, description="Files or folders.")
    investigation: str | None = Field(default=None, max_length=50)
    instrument: str | None = Field(default=None, max_length=50)
    force: bool = False


class OutcomeOut(BaseModel):
    location: str
    status: str
    dataset_id: int | None
    message: str | None


class IngestOut(BaseModel):
    summary: dict[str, int]
    outcomes: list[OutcomeOut]


class ProblemOut(BaseModel):
    id: int
    at: datetime
    path: str
    severity: str
    message: str
    dataset_id: int | None
