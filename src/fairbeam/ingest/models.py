"""What harvest remembers: each acquisition's fingerprint, and the problems it met."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fairbeam.db.base import Base, UTCDateTime, utcnow


class HarvestState(Base):
    """The last harvested state of an acquisition (its files' names, sizes and times)."""

    __tablename__ = "harvest_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(String(1000), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="SET NULL"))
    harvested: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HarvestProblem(Base):
    """A file harvest could not read, or read with a problem, for the data manager."""

    __tablename__ = "harvest_problem"
    __table_args__ = (Index("ix_harvest_problem_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    path: Mapped[str] = mapped_column(String(1000))
    severity: Mapped[str] = mapped_column(String(10))  # "error" or "warning"
    message: Mapped[str] = mapped_column(Text)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="SET NULL"))
