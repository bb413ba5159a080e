"""What the data policy's API takes and answers: embargo extensions, passes and plans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from fairbeam.catalogue.schemas import Moment, Strict


class ExtensionIn(Strict):
    release_date: Moment = Field(description="The release date asked for.")
    reason: str = Field(max_length=10_000, description="Why the data should stay closed longer.")


class DecisionIn(Strict):
    approve: bool
    note: str = Field(default="", max_length=10_000)


class ExtensionOut(BaseModel):
    id: int
    investigation: int
    code: str = Field(description="The investigation's proposal code.")
    requested_by: str | None
    reason: str
    previous_release_date: datetime | None = Field(description="The release date when asked.")
    release_date: datetime = Field(description="The release date asked for.")
    status: str
    decided_by: str | None
    decided: datetime | None
    note: str
    created: datetime


class PlanStep(BaseModel):
    count: int = Field(description="How many objects this step would handle.")
    first: list[int] = Field(description="The first of their ids.")


class PassPlanOut(BaseModel):
    as_of: date
    steps: dict[str, PlanStep] = Field(
        description="release, doi, archive, delete, restore, resume: what each step would do."
    )


class PolicyPassOut(BaseModel):
    id: int
    as_of: date
    started: datetime
    finished: datetime | None
    trigger: str
    dry_run: bool
    status: str
    summary: dict[str, Any]
    error: str
