"""Walk one HDF5 file safely: bounded object count, no cycles, links checked before following."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from h5py import h5d, h5g, h5l, h5o

from fairbeam.ingest.links import LinkTracker
from fairbeam.ingest.records import Parameter
from fairbeam.ingest.values import attribute_text, dataset_text, is_text, summarise

# Groups without an NX_class attribute are recognised by their usual names.
CLASS_BY_NAME = {
    "instrument": "NXinstrument",
    "sample": "NXsample",
    "measurement": "NXcollection",
    "positioners": "NXcollection",
    "monochromator": "NXmonochromator",
    "source": "NXsource",
    "plotselect": "NXdata",
    "data": "NXdata",
}
# Text fields without units are kept in these groups only (never NXuser: no e-mails).
TEXT_CLASSES = frozenset(
    {
        "NXsample",
        "NXinstrument",
        "NXsource",
        "NXmonochromator",
        "NXdetector",
        "NXbeam",
        "NXattenuator",
        "NXcrystal",
    }
)
MAX_LINK_HOPS = 16
MAX_IMAGE_KEYS = 1_000_000


@dataclass
class Found:
    """What a walk of one scan collected: parameters and hints for canonical names."""

    parameters: dict[str, Parameter] = field(default_factory=dict)
    # (classes of the enclosing groups, field name, parameter) for each scalar with units.
    candidates: list[tuple[tuple[str, ...], str, Parameter]] = field(default_factory=list)
    projections: int | None = None
    first_nxdata: str | None = None
    # Per field object read: its unit and its parameters, named by its path in the scan.
    fields: dict[int, tuple[str | None, str, dict[str, Parameter]]] = field(default_factory=dict)


def encode(name: str) -> bytes:
    """Return a link name as HDF5 stores it (UTF-8; undecodable bytes kept as they were)."""
    return name.encode("utf-8", "surrogateescape")


def decode(name: bytes) -> str:
    """Return a link name from HDF5 as str, the inverse of `encode`."""
    return name.decode("utf-8", "surrogateescape")


def wrap(oid: Any) -> Any:
    """Return the high-level object for an opened low-level id (None for named datatypes)."""
    if isinstance(oid, h5g.GroupID):
        return h5py.Group(oid)
    if isinstance(oid, h5d.DatasetID):
        return h5py.Dataset(oid, readonly=True)
    return None


def group_links(group: h5py.Group) -> list[tuple[str, int]]:
    """Return a group's link names and link types in name order, in one HDF5 call."""
    found: list[tuple[str, int]] = []
    group.id.links.iterate(lambda name, info: found.append((decode(name), info.type)), info=True)
    return found


class FileReader:
    """Per-file reading context: limits, problems found so far and linked files."""

    def __init__(
        self, path: Path, data_roots: Sequence[Path], max_attribute_bytes: int, max_objects: int
    ) -> None:
        self.problems: list[str] = []
        self.max_bytes = max_attribute_bytes
        self.max_objects = max_objects
        self.objects = 0
        self.stopped = False
        self.links = LinkTracker(path, data_roots, self.problems)
        # NX_class of each group read so far, with the problems reading it raised.
        self.classes: dict[int, tuple[str | None, list[str]]] = {}

    def count(self) -> bool:
        """Count one more object; tell whether the budget still allows reading it."""
        self.objects += 1
        if self.objects > self.max_objects and not self.stopped:
            self.stopped = True
            self.problems.append(
                f"stopped after {self.max_objects} objects: the rest of the file was not read"
            )
        return not self.stopped

    def text(self, obj: h5py.HLObject, name: str) -> str | None:
        """Return an attribute of `obj` as text, within the size limit."""
        return attribute_text(obj, name, self.max_bytes, self.problems)

    def nx_class(self, group: h5py.Group, name: str) -> str:
        """Return a group's NX_class (str or bytes in the file), else the class its name implies."""
        # Scans ask again for the classes the walk read: each attribute read is read once.
        key = hash(group.id)
        known = self.classes.get(key)
        if known is None:
            before = len(self.problems)
            found = self.text(group, "NX_class")
            self.classes[key] = (found, self.problems[before:])
        else:
            found, problems = known
            self.problems.extend(problems)
        if found:
            return found
        if name.startswith("user"):
            return "NXuser"
        return CLASS_BY_NAME.get(name, "")

    def field_text(self, group: h5py.Group, name: str) -> str | None:
        """Return a string field of `group` (scalar or one element), else None."""
        member = self.member(group, name)
        if not isinstance(member, h5py.Dataset):
            return None
        try:
            return dataset_text(member, self.max_bytes) or None
        except (OSError, ValueError, TypeError) as exc:
            self.problems.append(f"{member.name.lstrip('/')} could not be read: {exc}")
            return None

    def member(self, group: h5py.Group, name: str, hops: int = 0) -> Any:
        """Return a member of `group`, following soft links and allowed external links only."""
        if hops > MAX_LINK_HOPS:
            return None
        if not name or "/" in name or name in (".", ".."):
            return self.member_by_path(group, name, hops)
        links = group.id.links
        key = encode(name)
        try:
            # Low-level calls: the high-level `get(getlink=True)` costs three times as much.
            if not links.exists(key):
                return None
            kind = links.get_info(key).type
            if kind == h5l.TYPE_HARD:
                return wrap(h5o.open(group.id, key))
            if kind == h5l.TYPE_SOFT:
                return self.resolve(group, decode(links.get_val(key)), hops + 1)
            if kind == h5l.TYPE_EXTERNAL:
                filename = decode(links.get_val(key)[0])
                where = f"{group.name}/{name}".lstrip("/")
                follow = self.links.may_follow(filename, "external_link", where)
                return group[name] if follow else None
            return None
        except (KeyError, OSError, ValueError, RuntimeError):
            return None

    def member_by_path(self, group: h5py.Group, name: str, hops: int) -> Any:
        """Return a member named by a path (or an unusual name) through the high-level API."""
        try:
            link = group.get(name, getlink=True)
            if link is None:
                return None
            if isinstance(link, h5py.ExternalLink):
                where = f"{group.name}/{name}".lstrip("/")
                return group[name] if self.links.external(link, where) else None
            if isinstance(link, h5py.SoftLink):
                return self.resolve(group, str(link.path), hops + 1)
            return group[name]
        except (KeyError, OSError, ValueError, RuntimeError):
            return None

    def resolve(self, group: h5py.Group, path: str, hops: int = 0) -> Any:
        """Follow an HDF5 path step by step from `group` (or the root when absolute)."""
        current: Any = group.file if path.startswith("/") else group
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if not isinstance(current, h5py.Group):
                return None
            current = current.parent if part == ".." else self.member(current, part, hops)
        return current

    def children(self, group: h5py.Group) -> Iterator[tuple[str, Any]]:
        """Yield a group's members, following soft links and allowed external links."""
        for name, _ in group_links(group):
            member = self.member(group, name)
            if member is not None:
                yield name, member

    def walk(self, entry: h5py.Group) -> Found:
        """Collect every field with units (and text fields of instrument groups) of one scan."""
        found = Found()
        visited = {hash(entry.id)}
        stack: list[tuple[h5py.Group, tuple[str, ...], tuple[str, ...]]] = [(entry, (), ())]
        while stack and not self.stopped:
            group, prefix, classes = stack.pop()
            members: list[tuple[h5py.Group, tuple[str, ...], tuple[str, ...]]] = []
            for name, kind in group_links(group):
                if not self.count():
                    break
                path = (*prefix, name)
                try:
                    if kind == h5l.TYPE_EXTERNAL:
                        filename = decode(group.id.links.get_val(encode(name))[0])
                        where = "/".join((entry.name.lstrip("/"), *path))
                        self.links.may_follow(filename, "external_link", where)
                        continue
                    if kind != h5l.TYPE_HARD:
                        continue  # an alias: its target is read under its own path
                    oid = h5o.open(group.id, encode(name))
                    key = hash(oid)
                    if key in visited:
                        continue  # a second hard link to something already read, or a cycle
                    visited.add(key)
                    obj = wrap(oid)
                    if isinstance(obj, h5py.Group):
                        nx_class = self.nx_class(obj, name)
                        if nx_class == "NXdata" and found.first_nxdata is None:
                            found.first_nxdata = obj.name
                        if nx_class != "NXuser":
                            members.append((obj, path, (*classes, nx_class)))
                    elif isinstance(obj, h5py.Dataset):
                        self.read_field(obj, path, classes, found, key)
                except (KeyError, OSError, ValueError, TypeError, RuntimeError) as exc:
                    where = "/".join((entry.name.lstrip("/"), *path))
                    self.problems.append(f"{where} could not be read: {exc}")
            stack.extend(reversed(members))
        return found

    def read_field(
        self,
        dataset: h5py.Dataset,
        path: tuple[str, ...],
        classes: tuple[str, ...],
        found: Found,
        key: int,
    ) -> None:
        """Turn one field into parameters when it has units or is text in an instrument group."""
        readable = self.links.virtual(dataset) if dataset.is_virtual else True
        name = ".".join(path)
        if path[-1] == "image_key" and readable:
            found.projections = count_projections(dataset)
        if "units" in dataset.attrs:
            unit = self.text(dataset, "units") or None
            values = summarise(dataset, name, unit, read=readable)
            found.fields[key] = (unit, name, values)
            found.parameters.update(values)
            if name in values:
                found.candidates.append((classes, path[-1], values[name]))
            return
        if classes and classes[-1] in TEXT_CLASSES and is_text(dataset):
            text = dataset_text(dataset, self.max_bytes)
            if text:
                found.parameters[name] = Parameter(text, None)


def count_projections(dataset: h5py.Dataset) -> int | None:
    """Count the frames marked as projections (image_key 0) in an NXtomo image_key field."""
    if dataset.ndim != 1 or dataset.size > MAX_IMAGE_KEYS or dataset.dtype.kind not in "iuf":
        return None
    return int(np.count_nonzero(np.asarray(dataset[()]) == 0))
