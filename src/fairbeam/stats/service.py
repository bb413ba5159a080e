"""The statistics facility staff read: volumes, counts, and per-dataset averages."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, require_staff
from fairbeam.catalogue.models import Dataset
from fairbeam.db.base import utcnow
from fairbeam.errors import InvalidInput

PERIODS = {
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "365d": timedelta(days=365),
    "all": None,
}


class Stats(BaseModel):
    since: str
    datasets: int
    instruments: int
    volume_bytes: int
    files: int
    avg_files: float
    max_files: int
    avg_volume: float
    max_volume: int
    avg_parameters: float


def catalogue_stats(session: Session, principal: Principal, since: str) -> Stats:
    """Statistics of datasets registered in the period (staff and managers)."""
    require_staff(principal)
    if since not in PERIODS:
        raise InvalidInput(f"since {since!r} is not known; use one of {', '.join(PERIODS)}")
    d = Dataset
    query = select(
        func.count(),
        func.count(func.distinct(d.instrument_id)),
        func.coalesce(func.sum(d.volume_bytes), 0),
        func.coalesce(func.sum(d.file_count), 0),
        func.coalesce(func.max(d.file_count), 0),
        func.coalesce(func.max(d.volume_bytes), 0),
        func.coalesce(func.avg(d.parameter_count), 0),
    )
    period = PERIODS[since]
    if period is not None:
        query = query.where(d.created >= utcnow() - period)
    count, instruments, volume, files, max_files, max_volume, avg_params = session.execute(
        query
    ).one()
    return Stats(
        since=since,
        datasets=count,
        instruments=instruments,
        volume_bytes=int(volume),
        files=int(files),
        avg_files=files / count if count else 0.0,
        max_files=int(max_files),
        avg_volume=volume / count if count else 0.0,
        max_volume=int(max_volume),
        avg_parameters=float(avg_params),
    )
