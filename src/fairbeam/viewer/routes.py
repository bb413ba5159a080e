"""HTTP routes of the viewer: h5grove's endpoints for one catalogue file, behind the access
rules. Each answers with and without the trailing slash, as h5web calls both ways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from fairbeam.api.deps import CurrentPrincipal, PathId, SessionDep, SettingsDep
from fairbeam.viewer import encoding, service

router = APIRouter(tags=["viewer"])


def open_h5(
    file_id: PathId, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> Iterator[service.H5File]:
    """The HDF5 file of datafile ``file_id``, when the caller may see it."""
    with service.open_datafile(session, settings, principal, file_id) as h5:
        yield h5


DatafileH5 = Annotated[service.H5File, Depends(open_h5)]

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
    h5: DatafileH5,
    path: H5Path = "/",
    resolve_links: Resolve = "only_valid",
) -> Response:
    """An object's metadata: kind, attributes, shape and type; a group's members."""
    return encoding.json_response(service.metadata(h5, path, resolve_links))


@router.get("/files/{file_id}/h5/attr/")
@router.get("/files/{file_id}/h5/attr", include_in_schema=False)
def get_attr(
    h5: DatafileH5,
    path: H5Path = "/",
    attr_keys: Annotated[list[str] | None, Query(description="Only these attributes.")] = None,
) -> Response:
    """An object's attribute values by name."""
    return encoding.json_response(service.attributes(h5, path, attr_keys))


@router.get("/files/{file_id}/h5/data/")
@router.get("/files/{file_id}/h5/data", include_in_schema=False)
def get_data(
    h5: DatafileH5,
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
    return service.data(h5, path, selection, fmt, dtype, flatten, accept_encoding)


@router.get("/files/{file_id}/h5/stats/")
@router.get("/files/{file_id}/h5/stats", include_in_schema=False)
def get_stats(
    h5: DatafileH5,
    path: H5Path = "/",
    selection: SelectionText = None,
) -> Response:
    """Minimum, maximum, mean and spread of a dataset's finite selected values."""
    return encoding.json_response(service.stats(h5, path, selection))


@router.get("/files/{file_id}/h5/paths/")
@router.get("/files/{file_id}/h5/paths", include_in_schema=False)
def get_paths(
    h5: DatafileH5,
    path: H5Path = "/",
) -> Response:
    """Every path under a group, for the viewer's search."""
    return encoding.json_response(service.paths(h5, path))
