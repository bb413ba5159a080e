"""HTTP routes of restores: ask for archived data to come back online, follow the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, PathId, SessionDep
from fairbeam.catalogue.schemas import Page
from fairbeam.policy import restore
from fairbeam.policy.restore_schemas import RestoreOut

router = APIRouter(tags=["policy"])


@router.post(
    "/datasets/{dataset_id}/restore",
    response_model=RestoreOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def post_restore(
    dataset_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> RestoreOut:
    """Ask for an archived dataset to come back online: 202 with the request (the one
    already queued or running, if any); 409 when it is online or was deleted."""
    request = restore.request_restore(session, principal, dataset_id)
    session.commit()
    return restore.restore_out(request)


@router.get("/restores", response_model=Page[RestoreOut])
def get_restores(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[str | None, Query(description="queued, running, done or failed.")] = None,
    dataset: Annotated[int | None, Query(ge=1, description="Only this dataset's.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RestoreOut]:
    """Restore requests, newest first: managers see all, others their own."""
    return restore.list_restores(session, principal, status, dataset, limit, cursor)


@router.get("/restores/{request_id}", response_model=RestoreOut)
def get_restore(request_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> RestoreOut:
    """One restore request: its requester, whoever sees its dataset, managers."""
    return restore.get_restore(session, principal, request_id)
