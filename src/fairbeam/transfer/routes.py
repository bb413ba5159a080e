"""HTTP routes of downloads: a file's bytes, streamed zips, manifests and options."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal
from fairbeam.access.service import authenticate
from fairbeam.api.deps import PathId, SessionDep, SettingsDep, bearer_token
from fairbeam.config import Settings
from fairbeam.errors import InvalidInput
from fairbeam.transfer import content, manifest, tickets
from fairbeam.transfer.archive import archive_response
from fairbeam.transfer.options import DownloadOptions, download_options
from fairbeam.transfer.selection import Selection, select_datasets, select_investigation

router = APIRouter(tags=["transfer"])
Ref = Annotated[str, Path(description="An investigation's id or proposal code.")]


@dataclass(frozen=True)
class DownloadRequest:
    """Who asks for a download, with what request.

    The caller is authenticated inside the route's own worker thread: a request holds a
    database connection only while a thread runs it, never while waiting for one, so a
    hundred downloads at once cannot exhaust the pool while holding it.
    """

    request: Request
    session: Session
    settings: Settings
    token: str | None
    grant: tickets.Grant | None

    @cached_property
    def principal(self) -> Principal:
        """The caller: a ticket's, or the bearer token's (401 for a bad one)."""
        return (
            self.grant.principal
            if self.grant is not None
            else authenticate(self.session, self.token)
        )

    def datasets(self, *dataset_ids: int, queue_restore: bool = True) -> Selection:
        """The files of these datasets, through the access rules; for archived data, a
        409 after queuing its restore (unless not ``queue_restore``)."""
        return select_datasets(
            self.session, self.settings, self.principal, list(dataset_ids), queue_restore
        )

    def investigation(self, ref: str, queue_restore: bool = True) -> Selection:
        """The files of the investigation's datasets the caller may see (409 as for
        ``datasets``)."""
        return select_investigation(self.session, self.settings, self.principal, ref, queue_restore)

    def zip(self, selection: Selection) -> Response:
        """The selection as a streamed zip, honouring the request's range and conditions."""
        self.release()
        return archive_response(selection, self.settings, self.request.headers)

    def metalink(self, selection: Selection) -> Response:
        """The selection's Metalink 4 document."""
        self.release()
        body = manifest.metalink(selection, str(self.request.base_url))
        return StreamingResponse(body, media_type=manifest.METALINK_TYPE)

    def check_token(self) -> None:
        """Refuse a bad token (401) before anything else is looked at."""
        if self.grant is None:
            authenticate(self.session, self.token)

    def release(self) -> None:
        """Give the database connection back before the body streams: a download may last
        hours, and a hundred of them must not hold a hundred connections."""
        self.session.close()

    def options(self, selection: Selection, path: str, target: str) -> DownloadOptions:
        """How the selection served under ``path`` can be downloaded."""
        base = str(self.request.base_url)
        return download_options(selection, self.settings, base, path, target)


def ticket_grant(
    request: Request,
    session: SessionDep,
    ticket: Annotated[
        str | None,
        Query(max_length=20000, description="From `POST /api/downloads/ticket`, for links."),
    ] = None,
) -> tickets.Grant | None:
    """What a download ticket in the query grants, if there is one."""
    return None if ticket is None else tickets.redeem_ticket(session, ticket, request.url.path)


Granted = Annotated[tickets.Grant | None, Depends(ticket_grant)]


async def download_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer_token)],
    grant: Granted,
) -> DownloadRequest:
    """Bundle the request and its caller (no I/O, so it runs on the event loop)."""
    if grant is not None:
        session.close()  # redeeming the ticket took a connection; the route takes its own
    return DownloadRequest(request, session, settings, token, grant)


Asked = Annotated[DownloadRequest, Depends(download_request)]


class ArchiveSelection(BaseModel):
    """Datasets to download as one zip."""

    datasets: list[int] = Field(min_length=1, max_length=1000)


def path_list(selection: Selection) -> Response:
    """The selection's paths under their data root, one a line."""
    return Response(b"".join(manifest.path_list(selection)), media_type="text/plain")


@router.get("/files/{file_id}/content", response_class=Response)
def get_content(file_id: PathId, asked: Asked) -> Response:
    """The file's bytes; honours `Range` (several ranges too), `If-None-Match`, `If-Range`."""
    version = content.file_version(asked.session, asked.settings, asked.principal, file_id)
    asked.release()
    return content.content_response(version, asked.request.headers)


@router.get("/datasets/{dataset_id}/archive.zip", response_class=Response)
def get_dataset_archive(dataset_id: PathId, asked: Asked) -> Response:
    """The dataset as a zip streamed as it is read, its length known; honours `Range`."""
    return asked.zip(asked.datasets(dataset_id))


@router.get("/investigations/{ref}/archive.zip", response_class=Response)
def get_investigation_archive(ref: Ref, asked: Asked) -> Response:
    """The investigation's datasets the caller may see, as one streamed zip."""
    return asked.zip(asked.investigation(ref))


@router.post("/archive.zip", response_class=Response)
def post_archive(body: ArchiveSelection, asked: Asked) -> Response:
    """A selection of datasets as one streamed zip."""
    return asked.zip(asked.datasets(*dict.fromkeys(body.datasets)))


@router.get("/archive.zip", response_class=Response)
def get_archive(asked: Asked, grant: Granted) -> Response:
    """The selection of datasets a download ticket names, as one streamed zip (a link)."""
    asked.check_token()
    if grant is None or grant.datasets is None:
        raise InvalidInput(
            "GET /api/archive.zip needs a `ticket` naming the datasets "
            "(POST /api/downloads/ticket); or POST the datasets to /api/archive.zip"
        )
    return asked.zip(asked.datasets(*grant.datasets))


@router.post("/downloads/ticket", response_model=tickets.TicketOut)
def post_download_ticket(
    body: tickets.TicketIn,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer_token)],
) -> tickets.TicketOut:
    """A URL of a download route that works without `Authorization` for five minutes."""
    return tickets.issue_ticket(session, token, body)


@router.get("/datasets/{dataset_id}/manifest.metalink", response_class=Response)
def get_dataset_metalink(dataset_id: PathId, asked: Asked) -> Response:
    """Metalink 4 (RFC 5854) of the dataset's files: names, sizes, checksums, URLs."""
    return asked.metalink(asked.datasets(dataset_id))


@router.get("/investigations/{ref}/manifest.metalink", response_class=Response)
def get_investigation_metalink(ref: Ref, asked: Asked) -> Response:
    """Metalink 4 of the investigation's files the caller may see."""
    return asked.metalink(asked.investigation(ref))


@router.get("/datasets/{dataset_id}/manifest.txt", response_class=Response)
def get_dataset_paths(dataset_id: PathId, asked: Asked) -> Response:
    """The dataset's files, one path a line relative to their data root (rsync, Globus)."""
    return path_list(asked.datasets(dataset_id))


@router.get("/investigations/{ref}/manifest.txt", response_class=Response)
def get_investigation_paths(ref: Ref, asked: Asked) -> Response:
    """The investigation's files the caller may see, one path a line."""
    return path_list(asked.investigation(ref))


@router.get("/datasets/{dataset_id}/download", response_model=DownloadOptions)
def get_dataset_download(dataset_id: PathId, asked: Asked) -> DownloadOptions:
    """How to download the dataset: size, zip, manifests, command line, Globus when large."""
    # Options only describe a download: looking at them restores nothing.
    selection = asked.datasets(dataset_id, queue_restore=False)
    return asked.options(selection, f"api/datasets/{dataset_id}", str(dataset_id))


@router.get("/investigations/{ref}/download", response_model=DownloadOptions)
def get_investigation_download(ref: Ref, asked: Asked) -> DownloadOptions:
    """How to download the investigation's data the caller may see."""
    selection = asked.investigation(ref, queue_restore=False)
    return asked.options(selection, f"api/investigations/{ref}", ref)
