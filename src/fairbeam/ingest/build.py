"""From what a file and its path say to a dataset registration."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.catalogue.schemas import DatasetIn, SampleIn
from fairbeam.errors import InvalidInput
from fairbeam.ingest.layout import Layout
from fairbeam.ingest.read import DatasetFiles

# The catalogue's limits (catalogue/schemas.py) on a parameter's name and unit.
MAX_PARAMETER_NAME = 200
MAX_UNIT = 50


def normalised(name: str) -> str:
    """A name without case and punctuation: `MX-2471`, `mx2471` and `MX 2471` are equal."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Hints:
    """What the operator said, used where neither the file nor the path tells."""

    investigation: str | None = None
    instrument: str | None = None


class Names:
    """Matches proposal codes and beamline names, as files and paths spell them, to the
    catalogue's; remembers what it found for the run."""

    def __init__(self, session: Session) -> None:
        self.session = session
        rows = session.execute(select(Instrument.name)).scalars().all()
        self.instruments = {normalised(name): name for name in rows}
        self.codes: dict[str, str | None] = {}

    def instrument(self, hint: str | None) -> str | None:
        """The catalogue's instrument for a name such as `id23eh1` or `ESRF-ID23`."""
        if not hint:
            return None
        key = normalised(hint)
        if key in self.instruments:
            return self.instruments[key]
        prefixed = [k for k in self.instruments if k and key.startswith(k)]
        contained = [k for k in self.instruments if k and k in key]
        for choices in (prefixed, contained):
            if choices:
                return self.instruments[max(choices, key=len)]
        return None

    def investigation(self, hint: str) -> str:
        """The catalogue's proposal code for ``hint``, or ``hint`` itself when unknown."""
        key = normalised(hint)
        if key not in self.codes:
            column = func.lower(func.replace(func.replace(Investigation.code, "-", ""), "_", ""))
            column = func.replace(column, " ", "")
            self.codes[key] = self.session.scalar(
                select(Investigation.code).where(column == key).limit(1)
            )
        return self.codes[key] or hint


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _parameter(value: Any, unit: str | None) -> Any:
    return {"value": value, "unit": unit} if unit else value


def dataset_request(
    read: DatasetFiles, whole_folder: bool, layout: Layout, names: Names, hints: Hints
) -> DatasetIn:
    """The registration of one dataset read from disk."""
    master = read.master
    scans = master.scans
    info = layout.match(read.location.as_posix())
    instrument = None
    for hint in (_first(*(s.instrument for s in scans)), info.beamline, hints.instrument):
        instrument = names.instrument(hint)
        if instrument:
            break
    if instrument is None:
        said = _first(*(s.instrument for s in scans), info.beamline, hints.instrument)
        known = ", ".join(sorted(names.instruments.values())) or "none"
        raise InvalidInput(
            f"{master.path}: instrument {said!r} is not known (known: {known})"
            if said
            else f"{master.path}: no instrument in the file or the path; give --instrument"
        )
    code = _first(*(s.experiment_identifier for s in scans), info.proposal, hints.investigation)
    if code is None:
        raise InvalidInput(
            f"{master.path}: no proposal in the file (experiment_identifier) or the path; "
            "give --investigation"
        )
    starts = [s.start for s in scans if s.start is not None]
    ends = [e for e in (s.end or s.start for s in scans) if e is not None]
    modified = datetime.fromtimestamp(master.path.stat().st_mtime, UTC)
    start = min(starts) if starts else modified
    end = max(ends) if ends else None
    if end is not None and end < start:
        end = None
    parameters: dict[str, Any] = {}
    for scan in scans:
        for name, parameter in scan.parameters.items():
            if len(name) > MAX_PARAMETER_NAME or len(parameter.unit or "") > MAX_UNIT:
                # Kept out, and said, rather than refusing the whole dataset for it.
                note = f"parameter {name[:100]!r}: name or unit longer than the catalogue holds"
                if note not in master.problems:
                    master.problems.append(note)
                continue
            parameters.setdefault(name, _parameter(parameter.value, parameter.unit))
    first = scans[0] if scans else None
    parameters["scan_count"] = len(scans)
    if first is not None:
        for name, value in (("title", first.title), ("definition", first.definition)):
            if value:
                parameters.setdefault(name, value)
        plot = next((s.plot for s in scans if s.plot), None)
        if plot is not None:
            parameters["default_plot"] = plot.path
    sample_name = _first(*(s.sample for s in scans), info.sample)
    formula = _first(*(s.chemical_formula for s in scans))
    base = read.location if whole_folder else read.location.parent
    name = (
        f"{info.sample}_{info.dataset}"
        if info.sample and info.dataset
        else (read.location.name if whole_folder else read.location.stem)
    )
    try:
        return DatasetIn(
            investigation=names.investigation(code),
            instrument=instrument,
            name=name[:300],
            location=str(read.location),
            type="processed" if info.kind == "processed" else "raw",
            technique=_first(*(s.technique for s in scans)) or "",
            start=start,
            end=end,
            sample=SampleIn(name=sample_name[:200], chemical_formula=formula)
            if sample_name
            else None,
            parameters=parameters,
            files=[
                {"path": os.path.relpath(path, base), "size": size, "checksum": checksum}
                for path, size, checksum in read.files
            ],
        )
    except ValidationError as exc:  # a value from the file the catalogue cannot hold
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        value = str(error.get("input"))[:60]
        raise InvalidInput(
            f"{master.path}: {where} {value!r} is not acceptable: {error['msg']}"
        ) from exc
