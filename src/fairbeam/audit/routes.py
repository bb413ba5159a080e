"""HTTP routes of the audit trail: a filtered list, and the same as a streamed export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, SessionDep
from fairbeam.audit.queries import AuditFilters, export_audit, list_audit
from fairbeam.audit.schemas import AuditOut
from fairbeam.catalogue.schemas import Moment, Page

router = APIRouter(tags=["audit"])
Text = Annotated[str | None, Query(max_length=100)]


def audit_filters(
    action: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    actor: Text = None,
    since: Annotated[Moment | None, Query(description="From this time on.")] = None,
    until: Annotated[Moment | None, Query(description="Before this time.")] = None,
) -> AuditFilters:
    """The filters, from the query string."""
    return AuditFilters(action, object_type, object_id, actor, since, until)


Filters = Annotated[AuditFilters, Depends(audit_filters)]


@router.get("/audit", response_model=Page[AuditOut])
def get_audit(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Filters,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditOut]:
    """The audit trail, newest first (managers): who or what did what, when, to which
    object; filters `action`, `object_type`, `object_id`, `actor`, `since`, `until`."""
    return list_audit(session, principal, filters, limit, cursor)


@router.get("/audit/export", response_class=StreamingResponse)
def get_audit_export(
    request: Request,
    principal: CurrentPrincipal,
    filters: Filters,
    format: Annotated[str, Query(description="`csv` or `json`.")] = "csv",
) -> StreamingResponse:
    """The audit trail as one CSV or JSON file, newest first, streamed (managers); the
    same filters as the list."""
    body = export_audit(request.app.state.sessionmaker, principal, filters, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
