"""HTTP routes of the data policy: embargo extensions, the next pass's plan, past passes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, PathId, SessionDep, SettingsDep
from fairbeam.catalogue.schemas import Page
from fairbeam.policy import extensions, service
from fairbeam.policy.extensions import ExtensionFilters
from fairbeam.policy.schemas import (
    DecisionIn,
    ExtensionIn,
    ExtensionOut,
    PassPlanOut,
    PolicyPassOut,
)

router = APIRouter(tags=["policy"])


@router.post(
    "/investigations/{ref}/embargo-extensions",
    response_model=ExtensionOut,
    status_code=status.HTTP_201_CREATED,
)
def post_embargo_extension(
    ref: str, body: ExtensionIn, session: SessionDep, principal: CurrentPrincipal
) -> ExtensionOut:
    """Ask for a later release date, with a reason (the principal investigator, or a
    manager); a manager decides."""
    extension = extensions.request_extension(session, principal, ref, body)
    session.commit()
    return extensions.extensions_out(session, [extension])[0]


def extension_filters(
    status: Annotated[str | None, Query(max_length=20)] = None,
    investigation: Annotated[str | None, Query(max_length=100)] = None,
) -> ExtensionFilters:
    """The filters of the request list, from the query string."""
    return ExtensionFilters(status, investigation)


@router.get("/embargo-extensions", response_model=Page[ExtensionOut])
def get_embargo_extensions(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Annotated[ExtensionFilters, Depends(extension_filters)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ExtensionOut]:
    """Embargo extension requests, newest first (managers all, others theirs and those on
    investigations they lead); `status` and `investigation` filter."""
    return extensions.list_extensions(session, principal, filters, limit, cursor)


@router.get("/embargo-extensions/{extension_id}", response_model=ExtensionOut)
def get_embargo_extension(
    extension_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ExtensionOut:
    """One embargo extension request."""
    extension = extensions.get_extension(session, principal, extension_id)
    return extensions.extensions_out(session, [extension])[0]


@router.post("/embargo-extensions/{extension_id}/decision", response_model=ExtensionOut)
def post_embargo_extension_decision(
    extension_id: PathId, body: DecisionIn, session: SessionDep, principal: CurrentPrincipal
) -> ExtensionOut:
    """Approve (the requested date becomes the release date) or refuse (managers)."""
    extension = extensions.decide_extension(session, principal, extension_id, body)
    session.commit()
    return extensions.extensions_out(session, [extension])[0]


@router.get("/policy/plan", response_model=PassPlanOut)
def get_policy_plan(
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    as_of: Annotated[date | None, Query(description="The day (default today).")] = None,
) -> PassPlanOut:
    """What the next pass would do: a count and the first ids of each step (managers)."""
    return service.next_plan(session, principal, settings, as_of)


@router.get("/policy/passes", response_model=Page[PolicyPassOut])
def get_policy_passes(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> Page[PolicyPassOut]:
    """Passes of the data policy, newest first, with what each did (managers)."""
    return service.list_passes(session, principal, limit, cursor)


@router.get("/policy/passes/{pass_id}", response_model=PolicyPassOut)
def get_policy_pass(
    pass_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> PolicyPassOut:
    """One pass (managers)."""
    return service.get_pass(session, principal, pass_id)
