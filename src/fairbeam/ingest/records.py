"""Plain records of what one HDF5/NeXus master file says: scans, people, plots, linked files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class Parameter:
    """A typed value with its unit exactly as the file writes it (None when it has none)."""

    value: Any
    unit: str | None = None


@dataclass
class Person:
    """A participant named in an NXuser group; e-mail addresses are never kept."""

    name: str
    role: str | None = None
    affiliation: str | None = None
    orcid: str | None = None


@dataclass
class Plot:
    """The default NXdata of a scan: what a viewer plots first."""

    path: str
    signal: str | None = None
    axes: list[str] = field(default_factory=list)
    shape: list[int] | None = None
    ndim: int | None = None


@dataclass
class LinkedFile:
    """A file the master file points to through an external link or a virtual dataset."""

    path: Path
    kind: str
    exists: bool
    outside_roots: bool = False


@dataclass
class Scan:
    """One NXentry: a scan or an acquisition, with its metadata."""

    name: str
    title: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    definition: str | None = None
    technique: str | None = None
    experiment_identifier: str | None = None
    instrument: str | None = None
    sample: str | None = None
    chemical_formula: str | None = None
    users: list[Person] = field(default_factory=list)
    plot: Plot | None = None
    parameters: dict[str, Parameter] = field(default_factory=dict)


@dataclass
class MasterFile:
    """Everything read from one master file; `problems` lists what was skipped, one line each."""

    path: Path
    size: int
    scans: list[Scan] = field(default_factory=list)
    linked_files: list[LinkedFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    writing: bool = False
