"""Read one HDF5/NeXus master file into plain metadata: scans, parameters, people, links.

Each NXentry is a scan. Files without any NX_class attributes are tolerated: a top-level
group holding `title` or `start_time` is taken as a scan. A file with neither is refused
("no NeXus entry found"): it is a data file (detector frames), not a master file.

Parameters are named by their path inside the scan, groups joined by dots with the names
as the file spells them ("instrument.eiger.distance"); canonical short names
("energy", "detector_distance", ...) are added beside them. Soft links are aliases and
are not walked (their targets are read under their own paths); external links and
virtual dataset sources are recorded, and opened only when they exist inside the data
roots, and then only for shapes and attributes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401  (registers the bitshuffle, LZ4, Blosc... decompression filters)

from fairbeam.errors import HarvestError
from fairbeam.ingest.records import LinkedFile, MasterFile, Parameter, Person, Plot, Scan
from fairbeam.ingest.scan import read_scan
from fairbeam.ingest.walk import FileReader

__all__ = [
    "HarvestError",
    "LinkedFile",
    "MasterFile",
    "Parameter",
    "Person",
    "Plot",
    "Scan",
    "read_master",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF4_SIGNATURE = b"\x0e\x03\x13\x01"


def read_master(
    path: Path,
    *,
    data_roots: Sequence[Path] = (),
    max_attribute_bytes: int = 65536,
    max_objects: int = 100_000,
) -> MasterFile:
    """Read the metadata of one HDF5/NeXus master file; raise HarvestError if it cannot be."""
    path = Path(path).absolute()
    size = check_signature(path)
    handle, writing, notes = open_hdf5(path)
    reader = FileReader(path, data_roots, max_attribute_bytes, max_objects)
    reader.problems.extend(notes)
    try:
        with handle:
            entries = find_entries(reader, handle)
            if not entries:
                raise HarvestError(f"{path}: no NeXus entry found (no NXentry group)")
            scans = [read_scan(reader, entry) for entry in entries]
    except HarvestError:
        raise
    except FileNotFoundError as exc:
        raise HarvestError(f"{path}: the file vanished while it was read") from exc
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise HarvestError(f"{path}: could not be read, it may be corrupt ({exc})") from exc
    return MasterFile(
        path=path,
        size=size,
        scans=scans,
        linked_files=reader.links.linked_files(),
        problems=reader.problems,
        writing=writing,
    )


def check_signature(path: Path) -> int:
    """Return the file's size if it carries the HDF5 signature; say what it is otherwise."""
    try:
        if path.is_dir():
            raise HarvestError(f"{path}: is a folder, not a file")
        with path.open("rb") as stream:
            size = stream.seek(0, 2)
            if size == 0:
                raise HarvestError(f"{path}: the file is empty")
            # The superblock sits at 0 or after a user block of 512, 1024, 2048... bytes.
            offset = 0
            while offset + len(HDF5_SIGNATURE) <= size:
                stream.seek(offset)
                head = stream.read(len(HDF5_SIGNATURE))
                if head == HDF5_SIGNATURE:
                    return size
                offset = 512 if offset == 0 else offset * 2
            stream.seek(0)
            head = stream.read(64)
    except FileNotFoundError as exc:
        raise HarvestError(f"{path}: the file does not exist") from exc
    except PermissionError as exc:
        raise HarvestError(f"{path}: no read permission") from exc
    except OSError as exc:
        raise HarvestError(f"{path}: could not be read ({exc.strerror or exc})") from exc
    if head.startswith(HDF4_SIGNATURE):
        raise HarvestError(f"{path}: is an HDF4 file, not HDF5 (convert it with h4toh5)")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml"):
        raise HarvestError(f"{path}: is XML NeXus, not HDF5 (convert it with nxconvert)")
    raise HarvestError(f"{path}: is not an HDF5 file (no HDF5 signature)")


def open_hdf5(path: Path) -> tuple[h5py.File, bool, list[str]]:
    """Open read-only; return the handle, whether a writer has it open, and notes."""
    try:
        return h5py.File(path, "r"), False, []
    except FileNotFoundError as exc:
        raise HarvestError(f"{path}: the file vanished before it could be read") from exc
    except PermissionError as exc:
        raise HarvestError(f"{path}: no read permission") from exc
    except OSError as exc:
        message = str(exc)
        if "open for write" in message or "consistency flags" in message:
            return _open_swmr(path)
        if "truncated" in message:
            raise HarvestError(f"{path}: is truncated ({_detail(message)})") from exc
        if "unable to lock" in message:
            # A writer holds the lock without SWMR: read what is flushed, without locking.
            note = f"{path}: is being written without SWMR; its metadata may be incomplete"
            return _open_unlocked(path), True, [note]
        raise HarvestError(f"{path}: is corrupt or not readable ({_detail(message)})") from exc


def _open_swmr(path: Path) -> tuple[h5py.File, bool, list[str]]:
    try:
        return h5py.File(path, "r", swmr=True, locking=False), True, []
    except OSError as exc:
        raise HarvestError(
            f"{path}: is marked open for writing and cannot be read"
            " (if its writer crashed, `h5clear -s` clears the mark)"
        ) from exc


def _open_unlocked(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise HarvestError(f"{path}: is being written and cannot be read yet") from exc


def _detail(message: str) -> str:
    """Return the innermost reason of an HDF5 error message, on one line."""
    inner = re.findall(r"\(([^()]*)\)", message)
    return (inner[-1] if inner else message).replace("\n", " ").strip()


def find_entries(reader: FileReader, handle: h5py.File) -> list[h5py.Group]:
    """Return the NXentry groups at the top, in natural order ("2.1" before "10.1")."""
    entries: list[h5py.Group] = []
    guesses: list[h5py.Group] = []
    for name in handle:
        link = handle.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            reader.links.external(link, name)
            continue
        if not isinstance(link, h5py.HardLink):
            continue
        member = handle[name]
        if not isinstance(member, h5py.Group):
            continue
        nx_class = reader.text(member, "NX_class")
        if nx_class == "NXentry":
            entries.append(member)
        elif not nx_class and ("title" in member or "start_time" in member):
            guesses.append(member)
    return sorted(entries or guesses, key=lambda group: natural_key(group.name))


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key that orders the numbers inside names by value."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]
