"""HTTP routes of the logbook: thin wrappers around its services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, PathId, SessionDep, SettingsDep
from fairbeam.logbook import attachments, export, queries, service, stream
from fairbeam.logbook.logbooks import attachment_out, events_out, version_out
from fairbeam.logbook.models import LogbookEventVersion
from fairbeam.logbook.schemas import (
    AttachmentOut,
    BatchIn,
    BatchOut,
    EventEdit,
    EventIn,
    EventOut,
    EventPage,
    LogbookStats,
    VersionOut,
)
from fairbeam.logbook.stats import logbook_stats

router = APIRouter(prefix="/logbook", tags=["logbook"])
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=150, description="Retry-safe key.")
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The version edited.")]
Text = Annotated[str | None, Query(max_length=500)]


def event_filters(
    investigation: Text = None,
    instrument: Text = None,
    dataset: Annotated[int | None, Query(ge=1)] = None,
    type: Text = None,
    category: Text = None,
    tag: Text = None,
    q: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> queries.EventFilters:
    """The filters of the event list, from the query string."""
    return queries.EventFilters(
        investigation, instrument, dataset, type, category, tag, q, since, until
    )


Filters = Annotated[queries.EventFilters, Depends(event_filters)]


@router.get("/events", response_model=EventPage)
def get_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Filters,
    limit: Limit = 50,
    cursor: Cursor = None,
    around: Annotated[datetime | None, Query(description="Jump to this date.")] = None,
    order: Annotated[str, Query(description="`desc` (newest first) or `asc`.")] = "desc",
) -> EventPage:
    """Events of a logbook (or of every logbook the caller reads), filtered and paged
    both ways; `around` jumps to a date."""
    return queries.list_events(session, principal, filters, limit, cursor, around, order)


@router.post("/events", response_model=EventOut, status_code=status.HTTP_201_CREATED)
def post_event(
    body: EventIn,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EventOut:
    """Write an event: 201 when new, 200 when its idempotency key was seen before."""
    (posted,) = service.post_with_retry(session, principal, [body], idempotency_key)
    event, _ = service.get_event_row(session, principal, posted.id, deleted=True)
    response.status_code = status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK
    return events_out(session, [event])[0]


@router.post("/events/batch", response_model=BatchOut)
def post_event_batch(
    body: BatchIn,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> BatchOut:
    """Write up to 10,000 events in one transaction, for software that posts a lot."""
    return BatchOut(items=service.post_with_retry(session, principal, body.events, idempotency_key))


@router.get("/events/{event_id}", response_model=EventOut)
def get_event(event_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> EventOut:
    """One event as it reads now."""
    event, _ = service.get_event_row(session, principal, event_id)
    return events_out(session, [event])[0]


@router.put("/events/{event_id}", response_model=EventOut)
def put_event(
    event_id: PathId,
    body: EventEdit,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> EventOut:
    """A new version of the event; 409 when the edit started from an old version."""
    event = service.edit_event(session, principal, event_id, body, if_match)
    session.commit()
    return events_out(session, [event])[0]


@router.delete("/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event(
    event_id: PathId, session: SessionDep, principal: CurrentPrincipal, if_match: IfMatch = None
) -> Response:
    """Hide the event; its history keeps every version."""
    service.hide_event(session, principal, event_id, if_match)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/events/{event_id}/history", response_model=list[VersionOut])
def get_event_history(
    event_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> list[VersionOut]:
    """Every version of the event, oldest first, with author and time."""
    event, _ = service.get_event_row(session, principal, event_id, deleted=True)
    old = session.scalars(
        select(LogbookEventVersion)
        .where(LogbookEventVersion.event_id == event.id)
        .order_by(LogbookEventVersion.version)
    )
    versions = [version_out(v, v.version, v.written) for v in old]
    return [*versions, version_out(event, event.version, event.updated)]


@router.post(
    "/events/{event_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
)
def post_attachment(
    event_id: PathId,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile | None, File(description="The file (multipart).")] = None,
) -> AttachmentOut:
    """Attach a file to the event (multipart/form-data, field `file`); 413 past the limit."""
    if file is not None and file.size is not None and file.size > settings.attachment_max_bytes:
        raise attachments.too_large(settings, file.size)
    attachment = attachments.add_attachment(
        session,
        settings,
        principal,
        event_id,
        file.filename if file else None,
        file.content_type if file else None,
        file.file if file else None,
    )
    session.commit()
    return attachment_out(attachment)


@router.get("/attachments/{attachment_id}/content", response_class=FileResponse)
def get_attachment_content(
    attachment_id: PathId, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> FileResponse:
    """The bytes of an attachment."""
    attachment, path = attachments.get_attachment(session, settings, principal, attachment_id)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.filename,
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
    )


@router.get("/stream")
async def get_stream(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    investigation: Text = None,
    instrument: Text = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """New events of a logbook as server-sent events; reconnecting with Last-Event-ID
    (the last sequence number seen) resumes without a gap."""
    target, after = await run_in_threadpool(
        stream.open_stream, session, principal, investigation, instrument, last_event_id
    )
    session.close()
    messages = stream.stream_events(
        request.app.state.sessionmaker,
        target,
        after,
        settings.logbook_poll_seconds,
        request.is_disconnected,
    )
    return StreamingResponse(
        messages,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def open_export(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    investigation: Text = None,
    instrument: Text = None,
) -> export.Export:
    """The logbook an export names, once the caller may read it."""
    return export.open_export(session, settings, principal, investigation, instrument)


ExportDep = Annotated[export.Export, Depends(open_export)]


def _download(job: export.Export, suffix: str) -> dict[str, str]:
    name = job.target.key.replace(":", "-")
    return {"Content-Disposition": f'attachment; filename="logbook-{name}.{suffix}"'}


@router.get("/export.html", response_class=HTMLResponse)
def get_export_html(job: ExportDep) -> HTMLResponse:
    """The logbook as one self-contained HTML file."""
    return HTMLResponse(export.export_html(job), headers=_download(job, "html"))


@router.get("/export.pdf", response_class=Response)
def get_export_pdf(job: ExportDep) -> Response:
    """The logbook as a PDF, images included."""
    return Response(
        export.export_pdf(job), media_type="application/pdf", headers=_download(job, "pdf")
    )


@router.get("/stats", response_model=LogbookStats)
def get_logbook_stats(
    session: SessionDep,
    principal: CurrentPrincipal,
    since: str = "30d",
    investigation: Annotated[int | None, Query(ge=1)] = None,
) -> LogbookStats:
    """Events, annotations and notifications per day and the largest logbooks (staff of
    their beamlines, managers of all)."""
    return logbook_stats(session, principal, since, investigation)
