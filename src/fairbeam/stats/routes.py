"""Statistics routes."""

from __future__ import annotations

from fastapi import APIRouter

from fairbeam.api.deps import CurrentPrincipal, SessionDep
from fairbeam.stats.schemas import Timeline
from fairbeam.stats.service import Stats, catalogue_stats
from fairbeam.stats.timeline import dataset_timeline

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=Stats)
def get_stats(session: SessionDep, principal: CurrentPrincipal, since: str = "all") -> Stats:
    """Volumes, counts and per-dataset averages (`since`: 7d, 30d, 365d or all)."""
    return catalogue_stats(session, principal, since)


@router.get("/stats/timeline", response_model=Timeline)
def get_stats_timeline(
    session: SessionDep,
    principal: CurrentPrincipal,
    by: str = "month",
    instrument: str | None = None,
) -> Timeline:
    """Datasets, files and volume per month (or year) and beamline, oldest first."""
    return dataset_timeline(session, principal, by, instrument)
