"""HTTP routes of the viewer: h5grove's endpoints for one catalogue file, behind the access
rules. Each answers with and without the trailing slash, as h5web calls both ways."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal
from fairbeam.api.deps import CurrentPrincipal, PathId, SessionDep, SettingsDep
from fairbeam.config import Settings
from fairbeam.viewer import encoding, service

router = APIRouter(tags=["viewer"])


@dataclass(frozen=True)
class FileRequest:
    """Which catalogue file is asked for, by whom."""

    file_id: int
    session: Session
    settings: Settings
    principal: Principal


async def file_request(
    file_id: PathId, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> FileRequest:
    """Bundle the request's file and caller (no I/O, so it runs on the event loop)."""
    return FileRequest(file_id, session, settings, principal)


AskedFile = Annotated[FileRequest, Depends(file_request)]


@contextmanager
def open_asked(asked: FileRequest) -> Iterator[service.H5File]:
    """The asked file opened, when the caller may see it."""
    with service.open_datafile(asked.session, asked.settings, asked.principal, asked.file_id) as h5:
        yield h5


H5Path = Annotated[str, Query(description="Path of the object inside the HDF5 file.")]
Resolve = Annotated[
    str, Query(description="Links to resolve: `only_valid` (default), `none` or `all`.")
]
SelectionText = Annotated[
    str | None, Query(description="NumPy-like selection, e.g. `0,:,:` or `5:10` or `::2`.")
]


@router.get("/files/{file_id}/h5/meta/")
@router.get("/files/{file_id}/h5/meta", include_in_schema=False)
def get_meta(
    asked: AskedFile,
    path: H5Path = "/",
    resolve_links: Resolve = "only_valid",
) -> Response:
    """An object's metadata: kind, attributes, shape and type; a group's members."""
    with open_asked(asked) as h5:
        return encoding.json_response(service.metadata(h5, path, resolve_links))


@router.get("/files/{file_id}/h5/attr/")
@router.get("/files/{file_id}/h5/attr", include_in_schema=False)
def get_attr(
    asked: AskedFile,
    path: H5Path = "/",
    attr_keys: Annotated[list[str] | None, Query(description="Only these attributes.")] = None,
) -> Response:
    """An object's attribute values by name."""
    with open_asked(asked) as h5:
        return encoding.json_response(service.attributes(h5, path, attr_keys))


@router.get("/files/{file_id}/h5/data/")
@router.get("/files/{file_id}/h5/data", include_in_schema=False)
def get_data(
    asked: AskedFile,
    path: H5Path = "/",
    selection: SelectionText = None,
    fmt: Annotated[
        str, Query(alias="format", description="`json`, `bin`, `npy` or `csv`.")
    ] = "json",
    flatten: Annotated[bool, Query(description="Send the values as one dimension.")] = False,
    dtype: Annotated[
        str, Query(description="`origin`, or `safe` for types JavaScript reads.")
    ] = "origin",
    accept_encoding: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A dataset's selected values; a whole deflate chunk goes out still compressed."""
    with open_asked(asked) as h5:
        return service.data(h5, path, selection, fmt, dtype, flatten, accept_encoding)


@router.get("/files/{file_id}/h5/stats/")
@router.get("/files/{file_id}/h5/stats", include_in_schema=False)
def get_stats(
    asked: AskedFile,
    path: H5Path = "/",
    selection: SelectionText = None,
) -> Response:
    """Minimum, maximum, mean and spread of a dataset's finite selected values."""
    with open_asked(asked) as h5:
        return encoding.json_response(service.stats(h5, path, selection))


@router.get("/files/{file_id}/h5/paths/")
@router.get("/files/{file_id}/h5/paths", include_in_schema=False)
def get_paths(
    asked: AskedFile,
    path: H5Path = "/",
) -> Response:
    """Every path under a group, for the viewer's search."""
    with open_asked(asked) as h5:
        return encoding.json_response(service.paths(h5, path))
