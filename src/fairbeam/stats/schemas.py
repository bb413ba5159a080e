"""What the statistics API answers over time."""

from __future__ import annotations

from pydantic import BaseModel


class TimelinePoint(BaseModel):
    period: str  # "2025-03" by month, "2025" by year
    instrument: str
    datasets: int
    files: int
    volume_bytes: int


class Timeline(BaseModel):
    by: str
    instrument: str | None
    items: list[TimelinePoint]
