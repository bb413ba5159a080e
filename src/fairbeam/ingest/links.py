"""Files a master file points to, by external link or virtual dataset: checked, not followed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import h5py

from fairbeam.ingest.records import LinkedFile


class LinkTracker:
    """Records every distinct linked file once and says whether it may be opened."""

    def __init__(self, master: Path, data_roots: Sequence[Path], problems: list[str]) -> None:
        self.folder = master.parent
        self.roots = [Path(os.path.realpath(root)) for root in data_roots]
        self.problems = problems
        self.files: dict[Path, LinkedFile] = {}

    def record(self, filename: str, kind: str, where: str) -> LinkedFile:
        """Return the linked file for a link's file name, noting a problem the first time."""
        target = Path(os.path.realpath(self.folder / filename))
        known = self.files.get(target)
        if known is not None:
            return known
        outside = bool(self.roots) and not any(target.is_relative_to(r) for r in self.roots)
        linked = LinkedFile(path=target, kind=kind, exists=target.is_file(), outside_roots=outside)
        self.files[target] = linked
        label = "external link" if kind == "external_link" else "virtual dataset"
        if outside:
            self.problems.append(f"{label} {where} → {target} is outside the data roots")
        elif not linked.exists:
            self.problems.append(f"{label} {where} → {target} is missing")
        return linked

    def may_follow(self, filename: str, kind: str, where: str) -> bool:
        """Tell whether the target exists and lies inside the data roots."""
        linked = self.record(filename, kind, where)
        return linked.exists and not linked.outside_roots

    def external(self, link: h5py.ExternalLink, where: str) -> bool:
        """Record an external link; tell whether it may be followed."""
        return self.may_follow(str(link.filename), "external_link", where)

    def virtual(self, dataset: h5py.Dataset) -> bool:
        """Record the source files of a virtual dataset; tell whether all may be read."""
        readable = True
        seen: set[str] = set()
        for source in dataset.virtual_sources():
            name = str(source.file_name)
            if name == "." or name in seen:
                continue
            seen.add(name)
            where = dataset.name.lstrip("/")
            readable = self.may_follow(name, "virtual_dataset", where) and readable
        return readable

    def linked_files(self) -> list[LinkedFile]:
        """Return the linked files in the order they were found."""
        return list(self.files.values())
