"""HTTP routes of DOIs: requests for a DOI on a collection of datasets, their
decision by a data manager, and a DOI's public metadata."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, PathId, SessionDep, SettingsDep
from fairbeam.catalogue.schemas import Page
from fairbeam.policy import collections
from fairbeam.policy.collections import DoiRequestIn, DoiRequestOut
from fairbeam.policy.landing import DoiOut, get_doi
from fairbeam.policy.schemas import DecisionIn

router = APIRouter(tags=["doi"])
Status = Annotated[str | None, Query(max_length=20, description="pending, approved or refused.")]


@router.post("/doi-requests", response_model=DoiRequestOut, status_code=status.HTTP_201_CREATED)
def post_doi_request(
    body: DoiRequestIn, session: SessionDep, principal: CurrentPrincipal
) -> DoiRequestOut:
    """Ask for a DOI on datasets you can see, across investigations (a manager decides)."""
    row = collections.create_request(session, principal, body)
    session.commit()
    return collections.requests_out(session, [row])[0]


@router.get("/doi-requests", response_model=Page[DoiRequestOut])
def get_doi_requests(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Status = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DoiRequestOut]:
    """DOI requests, newest first: managers see all, others their own."""
    return collections.list_requests(session, principal, status, limit, cursor)


@router.get("/doi-requests/{request_id}", response_model=DoiRequestOut)
def get_doi_request(
    request_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> DoiRequestOut:
    """One DOI request (its requester and managers)."""
    return collections.requests_out(
        session, [collections.get_request(session, principal, request_id)]
    )[0]


@router.post("/doi-requests/{request_id}/decision", response_model=DoiRequestOut)
def post_doi_decision(
    request_id: PathId,
    body: DecisionIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> DoiRequestOut:
    """Approve (the DOI is minted) or refuse a pending DOI request (managers)."""
    row = collections.decide(session, settings, principal, request_id, body.approve, body.note)
    session.commit()
    return collections.requests_out(session, [row])[0]


@router.get("/dois/{doi:path}", response_model=DoiOut)
def get_public_doi(doi: str, session: SessionDep, settings: SettingsDep) -> DoiOut:
    """A DOI's public metadata (what its landing page shows), for anyone."""
    return get_doi(session, settings, doi)
