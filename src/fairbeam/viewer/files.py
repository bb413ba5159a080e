"""Open HDF5 files, kept open between requests, and paths inside them walked link by link
so that external links and virtual datasets never lead outside the servable folders."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import h5py
import hdf5plugin  # noqa: F401  (registers bitshuffle, LZ4, Blosc... with HDF5)

from fairbeam.errors import InvalidInput, NotFound

# Links followed to reach one object; more means a loop.
MAX_HOPS = 40
# h5py has no type hints: these name what is meant.
Node: TypeAlias = h5py.Group | h5py.Dataset | h5py.Datatype
Link: TypeAlias = h5py.SoftLink | h5py.ExternalLink


class NotHDF5(InvalidInput):
    """The file exists but HDF5 cannot read it."""


class NoEntry(NotFound):
    """Nothing at this path inside the file."""


class BrokenLink(NotFound):
    """A link whose target is missing, outside the servable folders or in a loop."""


# Objects found by path kept per open file (each holds an HDF5 handle); past this many
# the file's are forgotten.
MAX_PATHS = 256


@dataclass
class OpenFile:
    """An open file in the cache: how many requests use it, and what was found in it."""

    file: h5py.File
    users: int = 0
    evicted: bool = False
    # Objects found by (path, link resolution) through hard and soft links only: they
    # depend on nothing but this file's content, which the cache key pins.
    paths: dict[tuple[str, str], Any] = field(default_factory=dict)


@dataclass
class FileCache:
    """An LRU of open h5py files keyed by path, modification time and size, safe across
    threads: a file is closed only once no request uses it any more."""

    size: int = 128
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _files: OrderedDict[tuple[str, int, int], OpenFile] = field(default_factory=OrderedDict)

    @contextmanager
    def open(self, path: Path) -> Iterator[OpenFile]:
        """The open file at ``path`` (reopened when it changed on disk)."""
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            entry = self._files.get(key)
            if entry is None:
                # The older version is closed first: HDF5 would give the new open the
                # old one's state, metadata included, while it is still open.
                self._forget_older(key)
                entry = OpenFile(_open_h5(path))
                self._files[key] = entry
                while len(self._files) > self.size:
                    self._evict(next(iter(self._files)))
            else:
                self._files.move_to_end(key)
            entry.users += 1
        try:
            yield entry
        finally:
            with self._lock:
                entry.users -= 1
                if entry.evicted and entry.users == 0:
                    entry.file.close()

    def holds(self, path: Path) -> bool:
        """Whether some version of the file at ``path`` is open (no disk access)."""
        name = str(path)
        with self._lock:
            return any(key[0] == name for key in self._files)

    def clear(self) -> None:
        """Close every file no request is using, and forget the others."""
        with self._lock:
            for key in list(self._files):
                self._evict(key)

    def _forget_older(self, key: tuple[str, int, int]) -> None:
        for other in [k for k in self._files if k[0] == key[0]]:
            self._evict(other)

    def _evict(self, key: tuple[str, int, int]) -> None:
        entry = self._files.pop(key)
        entry.evicted = True
        if entry.users == 0:
            entry.file.close()


def _open_h5(path: Path) -> h5py.File:
    # No file locking: a file kept open here must not stop acquisition from writing it.
    attempts: list[dict[str, Any]] = [{"locking": False}]
    failure: OSError | None = None
    while attempts:
        try:
            return h5py.File(path, "r", **attempts.pop(0))
        except OSError as exc:
            failure = exc
            message = str(exc)
            if "locking flag" in message:  # open elsewhere in this process, with locking
                attempts.append({})
            elif "open for write" in message or "consistency flags" in message:
                attempts.append({"swmr": True, "locking": False})
    raise NotHDF5(f"{path.name} is not an HDF5 file this server can read ({failure})")


open_files = FileCache()


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def linked_file(folder: Path, filename: str) -> Path:
    """Where HDF5 finds a linked file: a relative name is taken from the linking file's
    folder; an absolute name that is missing is looked for there by its base name."""
    named = Path(filename)
    target = named if named.is_absolute() else folder / named
    if named.is_absolute() and not target.exists():
        target = folder / named.name
    return target.resolve()


class Navigator:
    """Walks paths inside HDF5 files, opening linked files through the cache only when
    they lie inside ``roots``; every file opened stays usable until ``close``."""

    def __init__(self, roots: Sequence[Path], cache: FileCache = open_files) -> None:
        self.roots = list(roots)
        self.cache = cache
        self._stack = ExitStack()
        self._paths: dict[h5py.File, dict[tuple[str, str], Any]] = {}
        self._crossed = False  # the walk in hand followed an external link

    def __enter__(self) -> Navigator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release every file this navigator opened."""
        self._stack.close()

    def open(self, path: Path) -> h5py.File:
        """An open file, kept for as long as this navigator."""
        entry = self._stack.enter_context(self.cache.open(path))
        self._paths[entry.file] = entry.paths
        return entry.file

    def find(self, root: h5py.File, path: str, *, resolve: str = "only_valid") -> Node | Link:
        """The object at ``path``; its last link is resolved as ``resolve`` says (`none`,
        `only_valid`: an unresolvable link is returned as such, `all`: it is an error).

        What was found without leaving the file is kept with the open file, so that the
        many requests for one frame stack walk its path once."""
        known = self._paths.get(root)
        key = (path, resolve)
        if known is not None and key in known:
            found: Node | Link = known[key]
            return found
        self._crossed = False
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if not parts:
            found = root["/"]
        else:
            parent = self._walk(root["/"], parts[:-1], path, 0)
            found = self.child(parent, parts[-1], resolve=resolve, where=path)
        if known is not None and not self._crossed:
            if len(known) >= MAX_PATHS:
                known.clear()
            known[key] = found
        return found

    def child(
        self, group: h5py.Group, name: str, *, resolve: str, where: str, hops: int = 0
    ) -> Node | Link:
        """The member ``name`` of ``group``, its link resolved as ``resolve`` says."""
        # The link's kind from HDF5 directly: most are hard links, opened at once.
        links, encoded = group.id.links, name.encode()
        if not links.exists(encoded):
            raise NoEntry(f"{where} is not a valid path in {Path(group.file.filename).name}")
        if links.get_info(encoded).type == h5py.h5l.TYPE_HARD:
            node: Node = group[name]
            return node
        link = group.get(name, getlink=True)
        if resolve == "none":
            return link
        try:
            return self._follow(group, link, where, hops + 1)
        except BrokenLink:
            if resolve == "only_valid":
                return link
            raise

    def _walk(self, group: h5py.Group, parts: list[str], where: str, hops: int) -> h5py.Group:
        for name in parts:
            node = self.child(group, name, resolve="all", where=where, hops=hops)
            if not isinstance(node, h5py.Group):
                raise NoEntry(f"{where} is not a valid path: {name} is not a group")
            group = node
        return group

    def _follow(self, group: h5py.Group, link: Link, where: str, hops: int) -> Node:
        if hops > MAX_HOPS:
            raise BrokenLink(f"Cannot resolve {where}: too many links (a loop?)")
        if isinstance(link, h5py.SoftLink):
            target = str(link.path)
            base = group.file["/"] if target.startswith("/") else group
        else:
            self._crossed = True
            folder = Path(group.file.filename).parent
            target_file = linked_file(folder, str(link.filename))
            if not _inside(target_file, self.roots):
                raise BrokenLink(
                    f"Cannot resolve {where}: {link.filename} is outside the folders "
                    "this server may read"
                )
            if not target_file.is_file():
                raise BrokenLink(f"Cannot resolve {where}: {link.filename} does not exist")
            base = self.open(target_file)["/"]
            target = str(link.path)
        parts = [part for part in target.split("/") if part not in ("", ".")]
        if not parts:
            root: h5py.Group = base
            return root
        try:
            parent = self._walk(base, parts[:-1], where, hops)
            return self.child(parent, parts[-1], resolve="all", where=where, hops=hops)
        except NoEntry as exc:
            raise BrokenLink(f"Cannot resolve {where}: {exc.detail}") from exc

    def check_sources(self, dataset: h5py.Dataset) -> None:
        """NotFound when a virtual dataset or external storage reads outside the roots."""
        folder = Path(dataset.file.filename).parent
        names: list[str] = []
        if dataset.is_virtual:
            names += [str(source.file_name) for source in dataset.virtual_sources()]
        plist = dataset.id.get_create_plist()
        names += [_text(plist.get_external(i)[0]) for i in range(plist.get_external_count())]
        for name in set(names) - {"."}:
            if not _inside(linked_file(folder, name), self.roots):
                raise BrokenLink(
                    f"{dataset.name} reads {name}, outside the folders this server may read"
                )


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
