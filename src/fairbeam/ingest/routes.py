"""Harvest over HTTP: paths under the data roots, and the problems harvest met."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi import APIRouter, Request
from sqlalchemy import select

from fairbeam.access.policy import require_manager, require_registrar
from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, SessionDep, SettingsDep
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.service import paginate
from fairbeam.ingest.build import Hints
from fairbeam.ingest.models import HarvestProblem
from fairbeam.ingest.schemas import IngestIn, IngestOut, OutcomeOut, ProblemOut
from fairbeam.ingest.service import Harvester, check_under_roots

router = APIRouter(tags=["harvest"])


@router.post("/ingest", response_model=IngestOut)
def post_ingest(
    body: IngestIn, request: Request, settings: SettingsDep, principal: CurrentPrincipal
) -> IngestOut:
    """Harvest files or folders under the data roots (staff, managers, software); each
    dataset is registered with the caller's rights on its beamline."""
    require_registrar(principal)
    paths = [Path(p).absolute() for p in body.paths]
    # Checked resolved, harvested as given: a dataset under a linked data root keeps
    # the location the command and the watcher give it.
    check_under_roots(paths, settings.data_roots)
    harvester = Harvester(
        request.app.state.sessionmaker, settings, principal, request.app.state.events
    )
    report = harvester.ingest(
        paths, Hints(investigation=body.investigation, instrument=body.instrument), body.force
    )
    return IngestOut(
        summary=report.summary(),
        outcomes=[OutcomeOut(**dataclasses.asdict(o)) for o in report.outcomes],
    )


@router.get("/ingest/problems", response_model=Page[ProblemOut])
def get_ingest_problems(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> Page[ProblemOut]:
    """What harvest could not read, or read with a problem, newest first (managers)."""
    require_manager(principal)
    rows, next_cursor = paginate(
        session, select(HarvestProblem), HarvestProblem, (("at", "id"), True), limit, cursor
    )
    return Page(
        items=[
            ProblemOut(
                id=p.id,
                at=p.at,
                path=p.path,
                severity=p.severity,
                message=p.message,
                dataset_id=p.dataset_id,
            )
            for p in rows
        ],
        next=next_cursor,
    )
