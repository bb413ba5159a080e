"""The viewer's work: find a datafile through the access rules, open it, and answer what
h5grove's `/meta/`, `/attr/`, `/data/`, `/stats/` and `/paths/` answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np
from fastapi import Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.policy import Principal
from fairbeam.access.service import authenticate
from fairbeam.catalogue.datasets import locate_file
from fairbeam.config import Settings
from fairbeam.errors import InvalidInput
from fairbeam.storage.paths import file_at, servable_roots
from fairbeam.viewer import encoding
from fairbeam.viewer.files import Link, Navigator, Node, open_files
from fairbeam.viewer.metadata import Metadata, entity_metadata
from fairbeam.viewer.selection import Selection, chunk_at, parse_selection

LINK_RESOLUTIONS = ("only_valid", "none", "all")
T = TypeVar("T")


@dataclass
class H5File:
    """One open HDF5 file of the catalogue and the navigator that walks it."""

    file: h5py.File
    navigator: Navigator

    def find(self, path: str, resolve: str = "all") -> Node | Link:
        """The object at ``path`` inside the file."""
        if resolve not in LINK_RESOLUTIONS:
            raise InvalidInput(
                f"resolve_links={resolve!r} is not one of {', '.join(LINK_RESOLUTIONS)}"
            )
        return self.navigator.find(self.file, path, resolve=resolve)

    def node(self, path: str) -> Node:
        """The object at ``path``, its links resolved."""
        found = self.find(path)
        assert not isinstance(found, h5py.SoftLink | h5py.ExternalLink)
        return found

    def dataset(self, path: str) -> h5py.Dataset:
        """The dataset at ``path``; InvalidInput when it is something else."""
        found = self.node(path)
        if not isinstance(found, h5py.Dataset):
            raise InvalidInput(f"path={path!r} is a {_kind(found)}, not a dataset")
        self.navigator.check_sources(found)
        return found


def _kind(node: Node) -> str:
    return "group" if isinstance(node, h5py.Group) else "datatype"


class FoundFiles:
    """Where each caller's datafiles were found through the access rules, kept a few
    seconds so that the many requests of one viewer page ask the database once.

    Only the lookup is kept: the token is checked on every request, so a revoked token
    answers 401 at once; a changed role makes another caller. A file withdrawn from a
    caller (an embargo extended, a participant removed) stays readable for at most
    ``seconds``, as if the change had been made that much later."""

    def __init__(self, seconds: float = 5.0, size: int = 4096) -> None:
        self.seconds = seconds
        self.size = size
        self._lock = threading.Lock()
        self._found: dict[Hashable, tuple[float, Path, list[Path]]] = {}

    def get(self, key: Hashable) -> tuple[Path, list[Path]] | None:
        """The file and servable folders found for ``key``, if found recently."""
        with self._lock:
            found = self._found.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1], found[2]

    def put(self, key: Hashable, path: Path, roots: list[Path]) -> None:
        """Remember a lookup; the oldest go when there are too many."""
        with self._lock:
            if len(self._found) >= self.size:
                now = time.monotonic()
                self._found = {k: v for k, v in self._found.items() if v[0] >= now}
                while len(self._found) >= self.size:
                    del self._found[next(iter(self._found))]
            self._found[key] = (time.monotonic() + self.seconds, path, roots)

    def forget(self, key: Hashable) -> None:
        """Drop one lookup (its file went missing)."""
        with self._lock:
            self._found.pop(key, None)


found_files = FoundFiles()


def caller(engine: Engine, token: str | None) -> Principal:
    """Who holds ``token``, checked on a bare connection (an ORM session costs three times
    its one query); the connection goes back to the pool at once."""
    with engine.connect() as connection:
        return authenticate(connection, token)


def answer(
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    token: str | None,
    file_id: int,
    work: Callable[[H5File], T],
    principal: Principal | None = None,
) -> T:
    """``work`` done on the datafile ``file_id`` when the token's holder may see it.

    The token is checked (unless ``principal`` says who checked it already), the file
    found through the access rules and the HDF5 work done in one call, so that a request
    crosses to a thread once."""
    if principal is None:
        principal = caller(engine, token)
    key = (sessions, principal, file_id)
    found = found_files.get(key)
    cached = found is not None
    if found is None:
        with sessions() as session:
            datafile, location = locate_file(session, principal, file_id)
        found = file_at(settings, location, datafile), servable_roots(settings)
        found_files.put(key, *found)
    path, roots = found
    with Navigator(roots) as navigator:
        try:
            h5 = navigator.open(path)
        except FileNotFoundError:
            if not cached:
                raise
            # Gone since it was found: look again, which says why.
            found_files.forget(key)
            return answer(engine, sessions, settings, token, file_id, work, principal)
        return work(H5File(h5, navigator))


def answer_if_open(
    sessions: sessionmaker[Session],
    principal: Principal,
    file_id: int,
    work: Callable[[H5File], T],
) -> T | None:
    """``work``'s answer when the caller's file was found lately and is open, so that
    nothing waits on the database or opens a file; None otherwise."""
    found = found_files.get((sessions, principal, file_id))
    if found is None or not open_files.holds(found[0]):
        return None
    path, roots = found
    with Navigator(roots) as navigator:
        try:
            h5 = navigator.open(path)
        except FileNotFoundError:
            return None
        return work(H5File(h5, navigator))


def metadata(h5: H5File, path: str, resolve: str) -> Metadata:
    """The object at ``path``: kind, attributes, type and shape, a group's members."""
    found = h5.find(path, resolve)
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return entity_metadata(h5.navigator, name, found, depth=1)


def attributes(h5: H5File, path: str, keys: Sequence[str] | None) -> dict[str, Any]:
    """Attribute values by name (only ``keys`` when given)."""
    attrs = h5.node(path).attrs
    if keys is None:
        return dict(attrs.items())
    missing = [key for key in keys if key not in attrs]
    if missing:
        raise InvalidInput(f"attr_keys: {', '.join(missing)} not an attribute of {path}")
    return {key: attrs[key] for key in keys}


def paths(h5: H5File, path: str) -> list[str]:
    """The path of the group and of every link under it, without following links."""
    group = h5.node(path)
    if not isinstance(group, h5py.Group):
        raise InvalidInput(f"path={path!r} is not a group")
    base = "/" + path.strip("/") if path.strip("/") else ""
    found = [base or "/"]

    def visit(name: bytes) -> None:
        found.append(f"{base}/{name.decode(errors='replace')}")

    group.id.links.visit(visit)
    return found


def read(dataset: h5py.Dataset, selection: Selection | None) -> Any:
    """The selected part of the dataset; only that part is read from disk."""
    if dataset.shape is None:
        return h5py.Empty(dataset.dtype)
    try:
        return dataset[selection if selection is not None else ()]
    except (ValueError, IndexError, TypeError) as exc:
        raise InvalidInput(f"selection cannot be read from {dataset.name}: {exc}") from exc


def data(
    h5: H5File,
    path: str,
    selection: str | None,
    fmt: str,
    dtype: str,
    flatten: bool,
    accept_encoding: str | None,
) -> Response:
    """The selected values in ``fmt``; a selection that is one whole deflate chunk goes
    out still compressed when the client inflates it itself."""
    encoding.check_request(fmt, dtype)
    dataset = h5.dataset(path)
    parsed = parse_selection(selection, dataset.shape)
    if fmt == "bin" and encoding.accepts_deflate(accept_encoding):
        stream = deflated_chunk(dataset, parsed, dtype)
        if stream is not None:
            return encoding.deflate_response(stream)
    value = encoding.convert(read(dataset, parsed), dtype)
    if flatten and isinstance(value, np.ndarray):
        value = value.reshape(-1)
    return encoding.data_response(value, fmt)


def deflated_chunk(dataset: h5py.Dataset, selection: Selection | None, dtype: str) -> bytes | None:
    """The stored zlib stream of the chunk that is exactly ``selection``, when its bytes
    once inflated are what `format=bin` would send; otherwise None."""
    if dataset.chunks is None or not encoding.is_numeric(dataset.dtype):
        return None
    wanted = encoding.safe_dtype(dataset.dtype) if dtype == "safe" else dataset.dtype
    # h5py's dtype keeps the file's byte order, so the stored bytes are in that dtype.
    if wanted != dataset.dtype:
        return None
    plist = dataset.id.get_create_plist()
    if plist.get_nfilters() != 1 or plist.get_filter(0)[0] != h5py.h5z.FILTER_DEFLATE:
        return None
    offset = chunk_at(selection, dataset.shape, dataset.chunks)
    if offset is None:
        return None
    # A chunk never written reads as the fill value; a set bit in the filter mask means
    # the chunk was stored without that filter.
    if dataset.id.get_chunk_info_by_coord(offset).byte_offset is None:
        return None
    mask, stream = dataset.id.read_direct_chunk(offset)
    return bytes(stream) if mask == 0 else None


def stats(h5: H5File, path: str, selection: str | None) -> dict[str, Any]:
    """Minimum, maximum, mean, standard deviation and smallest (strictly) positive value of
    the finite selected values."""
    dataset = h5.dataset(path)
    values = np.asarray(read(dataset, parse_selection(selection, dataset.shape)))
    if not encoding.is_numeric(values.dtype) or values.dtype.kind == "c":
        raise InvalidInput(f"{dataset.name} is not real numbers: it has no statistics")
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    keys = ("strict_positive_min", "positive_min", "min", "max", "mean", "std")
    if values.size == 0:
        return dict.fromkeys(keys)
    cast = float if values.dtype.kind == "f" else int
    positive = values[values >= 0]
    strict = values[values > 0]
    found = (
        cast(strict.min()) if strict.size else None,
        cast(positive.min()) if positive.size else None,
        cast(values.min()),
        cast(values.max()),
        cast(values.mean()),
        cast(values.std()),
    )
    return dict(zip(keys, found, strict=True))
