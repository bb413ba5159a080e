"""Finding acquisitions on disk: the folders and master files that make datasets.

An acquisition folder holds a master file named after it (`lyso_0001/lyso_0001.h5`,
as Bliss writes): the folder is the dataset and every file below it is a datafile.
Elsewhere each HDF5/NeXus file of a folder is a candidate master; which candidates
really are masters is known only once they are read (see `read.py`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fairbeam.errors import InvalidInput

HDF5_SUFFIXES = (".h5", ".hdf5", ".nxs", ".nx5", ".nx", ".hdf")


@dataclass
class FileStat:
    """A file's path, size and modification time as seen by the stat walk."""

    path: Path
    size: int
    mtime_ns: int


@dataclass
class Acquisition:
    """A dataset to be: its folder, its master file(s) and its files."""

    folder: Path
    masters: list[Path]
    files: list[FileStat] = field(default_factory=list)
    # True when the folder is the dataset; False when several masters share a
    # folder and each is a dataset of its own (told apart once read).
    whole_folder: bool = True

    @property
    def fingerprint(self) -> str:
        """A digest of the files' names, sizes and times: equal means unchanged."""
        digest = hashlib.sha256()
        for stat in sorted(self.files, key=lambda s: str(s.path)):
            digest.update(f"{stat.path}\0{stat.size}\0{stat.mtime_ns}\n".encode())
        return digest.hexdigest()


def is_hdf5_name(name: str) -> bool:
    """True for a file name with an HDF5/NeXus suffix."""
    return name.lower().endswith(HDF5_SUFFIXES) and not name.startswith(".")


def _stat(path: Path) -> FileStat | None:
    try:
        info = path.stat()
    except OSError:  # vanished between listing and stat
        return None
    return FileStat(path=path, size=info.st_size, mtime_ns=info.st_mtime_ns)


def _files_below(folder: Path) -> list[FileStat]:
    found = []
    for top, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if name.startswith("."):
                continue
            stat = _stat(Path(top) / name)
            if stat is not None:
                found.append(stat)
    return found


def named_master(folder: Path, names: Iterable[str]) -> Path | None:
    """The master file named after its folder, if the folder has one."""
    for name in sorted(names):
        if is_hdf5_name(name) and Path(name).stem == folder.name:
            return folder / name
    return None


def find_acquisitions(paths: Iterable[Path]) -> Iterator[Acquisition]:
    """Every acquisition under ``paths`` (files or folders), in a stable order."""
    for path in paths:
        path = Path(path).absolute()
        if path.is_file():
            yield _for_file(path)
        elif path.is_dir():
            yield from _walk(path)
        else:
            raise InvalidInput(f"{path} does not exist or is neither a file nor a folder")


def _for_file(path: Path) -> Acquisition:
    folder = path.parent
    if path.stem == folder.name:
        return Acquisition(folder=folder, masters=[path], files=_files_below(folder))
    stat = _stat(path)
    return Acquisition(
        folder=folder, masters=[path], files=[stat] if stat else [], whole_folder=False
    )


def _walk(root: Path) -> Iterator[Acquisition]:
    for top, dirs, names in os.walk(root):
        dirs.sort()
        folder = Path(top)
        master = named_master(folder, names)
        if master is not None:
            dirs.clear()  # everything below belongs to this acquisition
            yield Acquisition(folder=folder, masters=[master], files=_files_below(folder))
            continue
        candidates = [folder / n for n in sorted(names) if is_hdf5_name(n)]
        if candidates:
            stats = [s for s in (_stat(folder / n) for n in sorted(names)) if s is not None]
            yield Acquisition(folder=folder, masters=candidates, files=stats, whole_folder=False)
