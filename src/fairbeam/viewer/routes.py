"""HTTP routes of the viewer: h5grove's endpoints for one catalogue file, behind the access
rules. Each answers with and without the trailing slash, as h5web calls both ways."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.api.deps import PathId, bearer_token
from fairbeam.config import Settings
from fairbeam.viewer import encoding, service

router = APIRouter(tags=["viewer"])


@dataclass(frozen=True)
class FileRequest:
    """Which catalogue file is asked for, and the caller's token."""

    file_id: int
    engine: Engine
    sessions: sessionmaker[Session]
    settings: Settings
    token: str | None

    async def answer(
        self, work: Callable[[service.H5File], Response], *, quick: bool = False
    ) -> Response:
        """``work``'s response on the file, the caller checked, in one call on one of the
        viewer's threads.

        ``quick`` work (metadata and attributes, read from an open file's cached headers
        in a fraction of a millisecond) is done right here when the caller's file was
        found lately and is open: crossing to a thread and back would cost more than the
        work. Only the token's one indexed query then runs on the event loop."""
        principal = None
        if quick:
            principal = service.caller(self.engine, self.token)
            done = service.answer_if_open(self.sessions, principal, self.file_id, work)
            if done is not None:
                return done
        call = partial(
            service.answer, self.engine, self.sessions, self.settings, self.token, self.file_id
        )
        return await asyncio.get_running_loop().run_in_executor(
            THREADS, partial(call, work, principal=principal)
        )


# The viewer's own threads, as datasette keeps its own for SQL: a request crosses to one
# for a third of what anyio's threadpool costs (no capacity limiter, no cancellation
# checkpoints, each a turn of the event loop), and a slow file never holds the threads
# of other routes. HDF5 runs one call at a time, so a few threads suffice.
THREADS = ThreadPoolExecutor(8, thread_name_prefix="fairbeam-viewer")


async def file_request(request: Request, file_id: PathId) -> FileRequest:
    """The request's file and token (no I/O, so it runs on the event loop; the token is
    read here rather than as a dependency of its own, one fewer for every request)."""
    state = request.app.state
    token = await bearer_token(request)
    return FileRequest(file_id, state.engine, state.sessionmaker, state.settings, token)


AskedFile = Annotated[FileRequest, Depends(file_request)]


H5Path = Annotated[str, Query(description="Path of the object inside the HDF5 file.")]
SelectionText = Annotated[
    str | None, Query(description="NumPy-like selection, e.g. `0,:,:` or `5:10` or `::2`.")
]


def _query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


# `/meta/` and `/attr/` read their few query parameters themselves: h5web sends bursts of
# them, and FastAPI's validation of each parameter cost more than their work. Every
# value is text, checked where it is used; the schema documents them as FastAPI would.
_PATH_PARAMETER = _query_parameter(
    "path", "Path of the object inside the HDF5 file.", {"type": "string", "default": "/"}
)
_META_DOC = {
    "parameters": [
        _PATH_PARAMETER,
        _query_parameter(
            "resolve_links",
            "Links to resolve: `only_valid` (default), `none` or `all`.",
            {"type": "string", "default": "only_valid"},
        ),
    ]
}
_ATTR_DOC = {
    "parameters": [
        _PATH_PARAMETER,
        _query_parameter(
            "attr_keys",
            "Only these attributes.",
            {"type": "array", "items": {"type": "string"}},
        ),
    ]
}


@router.get("/files/{file_id}/h5/meta/", openapi_extra=_META_DOC)
@router.get("/files/{file_id}/h5/meta", include_in_schema=False)
async def get_meta(request: Request, file_id: PathId) -> Response:
    """An object's metadata: kind, attributes, shape and type; a group's members."""
    asked = await file_request(request, file_id)
    query = request.query_params
    path = query.get("path", "/")
    resolve_links = query.get("resolve_links", "only_valid")
    return await asked.answer(
        lambda h5: encoding.json_response(service.metadata(h5, path, resolve_links)),
        quick=True,
    )


@router.get("/files/{file_id}/h5/attr/", openapi_extra=_ATTR_DOC)
@router.get("/files/{file_id}/h5/attr", include_in_schema=False)
async def get_attr(request: Request, file_id: PathId) -> Response:
    """An object's attribute values by name."""
    asked = await file_request(request, file_id)
    query = request.query_params
    path = query.get("path", "/")
    attr_keys = query.getlist("attr_keys") or None
    return await asked.answer(
        lambda h5: encoding.json_response(service.attributes(h5, path, attr_keys)),
        quick=True,
    )


@router.get("/files/{file_id}/h5/data/")
@router.get("/files/{file_id}/h5/data", include_in_schema=False)
async def get_data(
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
    return await asked.answer(
        lambda h5: service.data(h5, path, selection, fmt, dtype, flatten, accept_encoding)
    )


@router.get("/files/{file_id}/h5/stats/")
@router.get("/files/{file_id}/h5/stats", include_in_schema=False)
async def get_stats(
    asked: AskedFile,
    path: H5Path = "/",
    selection: SelectionText = None,
) -> Response:
    """Minimum, maximum, mean and spread of a dataset's finite selected values."""
    return await asked.answer(lambda h5: encoding.json_response(service.stats(h5, path, selection)))


@router.get("/files/{file_id}/h5/paths/")
@router.get("/files/{file_id}/h5/paths", include_in_schema=False)
async def get_paths(
    asked: AskedFile,
    path: H5Path = "/",
) -> Response:
    """Every path under a group, for the viewer's search."""
    return await asked.answer(lambda h5: encoding.json_response(service.paths(h5, path)))
