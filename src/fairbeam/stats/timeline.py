"""Datasets, files and volume per month (or year) and per beamline, read from the
dataset summary: a few thousand rows whatever the size of the catalogue."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, require_staff
from fairbeam.catalogue.models import DatasetSummary, Instrument
from fairbeam.catalogue.service import get_instrument
from fairbeam.errors import InvalidInput
from fairbeam.stats.schemas import Timeline, TimelinePoint

PERIODS_BY = ("month", "year")


def dataset_timeline(
    session: Session, principal: Principal, by: str, instrument: str | None
) -> Timeline:
    """Datasets and volume per period and beamline, oldest first (staff and managers)."""
    require_staff(principal)
    if by not in PERIODS_BY:
        raise InvalidInput(f"by {by!r} is not known; use one of {', '.join(PERIODS_BY)}")
    s = DatasetSummary
    period = [s.year, s.month] if by == "month" else [s.year]
    query = (
        select(
            Instrument.name,
            func.sum(s.datasets),
            func.sum(s.files),
            func.sum(s.volume_bytes),
            *period,
        )
        .join(Instrument, Instrument.id == s.instrument_id)
        .group_by(Instrument.name, *period)
        .having(func.sum(s.datasets) > 0)
        .order_by(*period, Instrument.name)
    )
    if instrument:
        query = query.where(s.instrument_id == get_instrument(session, instrument).id)
    items = [
        TimelinePoint(
            period="-".join(f"{int(part):02d}" for part in when),
            instrument=name,
            datasets=int(datasets),
            files=int(files),
            volume_bytes=int(volume),
        )
        for name, datasets, files, volume, *when in session.execute(query)
    ]
    return Timeline(by=by, instrument=instrument, items=items)
