"""Reading acquisitions: metadata from the master files and checksums of every file,
the two at once (checksums stream in threads while h5py reads the metadata).

Runs in worker processes; takes and returns plain, picklable records.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ParamSpec, TypeVar

from fairbeam.errors import HarvestError
from fairbeam.ingest.discovery import Acquisition, FileStat
from fairbeam.ingest.nexus import MasterFile, read_master
from fairbeam.storage.checksums import file_checksum

NO_ENTRY = "no NeXus entry found"


@dataclass(frozen=True)
class ReadOptions:
    """How to read: the data roots, and which checksum for which files."""

    data_roots: tuple[Path, ...] = ()
    checksum: str = "xxh3"
    checksum_max_bytes: int = 0


@dataclass
class DatasetFiles:
    """One dataset read from disk: its master file, and every file with size and checksum."""

    location: Path
    master: MasterFile
    files: list[tuple[Path, int, str | None]] = field(default_factory=list)


@dataclass
class AcquisitionRead:
    """What reading an acquisition gave: its datasets, and one line per failed file."""

    acquisition: Acquisition
    datasets: list[DatasetFiles] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)


def _checksum(path: Path, size: int, options: ReadOptions) -> str | None:
    if options.checksum == "none":
        return None
    if options.checksum_max_bytes and size > options.checksum_max_bytes:
        return None
    try:
        return file_checksum(path, options.checksum)
    except OSError:
        return None  # vanished or unreadable: the file list still names it


def _linked_stats(master: MasterFile, known: set[Path]) -> list[FileStat]:
    stats = []
    for link in master.linked_files:
        if link.exists and not link.outside_roots and link.path not in known:
            try:
                info = link.path.stat()
            except OSError:
                continue
            stats.append(FileStat(link.path, info.st_size, info.st_mtime_ns))
            known.add(link.path)
    return stats


def _is_collection_file(master: MasterFile, folder: Path) -> bool:
    # A proposal or sample file that only links to other acquisitions' masters
    # (as Bliss writes them) is an index of datasets, not a dataset.
    targets = [link.path for link in master.linked_files]
    return bool(targets) and all(
        t.parent != folder and t.parent.is_relative_to(folder) and t.stem == t.parent.name
        for t in targets
    )


_P = ParamSpec("_P")
_T = TypeVar("_T")


class _Inline(Executor):
    """Runs each call at once: with no checksum to stream there is nothing to hand a thread."""

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@cache
def _checksum_threads() -> ThreadPoolExecutor:
    # One pool per process: starting threads for every acquisition cost more than
    # hashing a small file, and waits for the scheduler on a busy machine.
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="checksum")


def read_acquisition(acquisition: Acquisition, options: ReadOptions) -> AcquisitionRead:
    """Read the master files and checksum the files of one acquisition."""
    result = AcquisitionRead(acquisition=acquisition)
    executor = _Inline() if options.checksum == "none" else _checksum_threads()
    with nullcontext(executor) as pool:
        sums = {
            stat.path: pool.submit(_checksum, stat.path, stat.size, options)
            for stat in acquisition.files
        }
        masters: dict[Path, MasterFile] = {}
        for path in acquisition.masters:
            try:
                masters[path] = read_master(path, data_roots=options.data_roots)
            except HarvestError as exc:
                if acquisition.whole_folder or NO_ENTRY not in exc.detail:
                    result.failures.append((path, exc.detail))
        if not acquisition.whole_folder:
            linked = {link.path for m in masters.values() for link in m.linked_files}
            masters = {
                p: m
                for p, m in masters.items()
                if p not in linked and not _is_collection_file(m, acquisition.folder)
            }
        known = {stat.path for stat in acquisition.files}
        for path, master in masters.items():
            extra = _linked_stats(master, known)
            for stat in extra:
                sums[stat.path] = pool.submit(_checksum, stat.path, stat.size, options)
            if acquisition.whole_folder:
                members = acquisition.files + extra
                location = acquisition.folder
            else:
                stem = path.stem
                members = [
                    s
                    for s in acquisition.files
                    if s.path == path
                    or (s.path.name.startswith(stem + "_") and s.path not in masters)
                ] + extra
                location = path
            result.datasets.append(
                DatasetFiles(
                    location=location,
                    master=master,
                    files=[(s.path, s.size, sums[s.path].result()) for s in members],
                )
            )
    return result
