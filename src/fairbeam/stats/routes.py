"""Statistics routes."""

from __future__ import annotations

from fastapi import APIRouter

from fairbeam.api.deps import CurrentPrincipal, SessionDep
from fairbeam.stats.service import Stats, catalogue_stats

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=Stats)
def get_stats(session: SessionDep, principal: CurrentPrincipal, since: str = "all") -> Stats:
    """Volumes, counts and per-dataset averages (`since`: 7d, 30d, 365d or all)."""
    return catalogue_stats(session, principal, since)
