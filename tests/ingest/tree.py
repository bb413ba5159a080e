"""A facility's data tree for harvest tests: the ESRF layout, its beamlines and proposals,
and what the catalogue holds for a dataset, read back row by row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import xxhash
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetParameter,
    Instrument,
    Investigation,
    ParameterType,
    Sample,
)
from fairbeam.ingest.models import HarvestProblem, HarvestState

# Tables a registration writes; none may hold a row of a dataset that failed.
MONTH = timedelta(days=30)
CATALOGUE_TABLES = (Investigation, Sample, Dataset, Datafile, DatasetParameter, AuditRecord)


def acquisition(
    data: Path,
    sample: str,
    number: str,
    *,
    proposal: str = "mx2471",
    beamline: str = "id23eh1",
    session: str = "20240506",
    kind: str = "RAW_DATA",
) -> Path:
    """The master file path of one acquisition in the ESRF layout; its folder is created."""
    folder = data / "visitor" / proposal / beamline / session / kind / sample / f"{sample}_{number}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{sample}_{number}.h5"


def add_facility(session: Session) -> None:
    """Beamlines ID23, ID11, I16 and LARMOR (ID23 and ID11 may exist already) and the
    proposals MX-2471 on ID23 and RB1920001 on LARMOR."""
    have = set(session.scalars(select(Instrument.name)))
    session.add_all(Instrument(name=n) for n in ("ID23", "ID11", "I16", "LARMOR") if n not in have)
    session.flush()
    ids = {name: id_ for name, id_ in session.execute(select(Instrument.name, Instrument.id))}
    proposals = [
        ("MX-2471", "Lysozyme at 100 K", "ID23", datetime(2024, 5, 1, tzinfo=UTC)),
        ("RB1920001", "Heavy water in a can", "LARMOR", datetime(2019, 3, 20, tzinfo=UTC)),
    ]
    session.add_all(
        Investigation(
            code=code, title=title, instrument_id=ids[beamline], start=start, end=start + MONTH
        )
        for code, title, beamline, start in proposals
    )
    session.commit()


def xxh3(path: Path) -> str:
    """The xxh3-128 checksum of a file, computed here independently of fairbeam."""
    return "xxh3:" + xxhash.xxh3_128(path.read_bytes()).hexdigest()


def sha256(path: Path) -> str:
    """The SHA-256 checksum of a file, computed here independently of fairbeam."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Stored:
    """A dataset as the catalogue holds it."""

    dataset: Dataset
    investigation: Investigation
    instrument: str
    sample: Sample | None
    parameters: dict[str, tuple[Any, str | None]]
    files: dict[str, tuple[int, str | None]]


def stored(session: Session, location: Path | str) -> Stored:
    """The one dataset registered at ``location``, with its rows."""
    session.expire_all()
    dataset = session.scalars(select(Dataset).where(Dataset.location == str(location))).one()
    parameters = {
        name: (value, unit)
        for name, value, unit in session.execute(
            select(ParameterType.name, DatasetParameter.value, DatasetParameter.unit)
            .join(ParameterType, ParameterType.id == DatasetParameter.type_id)
            .where(DatasetParameter.dataset_id == dataset.id)
        )
    }
    files = {
        path: (size, checksum)
        for path, size, checksum in session.execute(
            select(Datafile.path, Datafile.size, Datafile.checksum).where(
                Datafile.dataset_id == dataset.id
            )
        )
    }
    instrument = session.scalar(
        select(Instrument.name).where(Instrument.id == dataset.instrument_id)
    )
    assert instrument is not None
    return Stored(dataset, dataset.investigation, instrument, dataset.sample, parameters, files)


def files_on_disk(folder: Path, algorithm: str = "xxh3") -> dict[str, tuple[int, str | None]]:
    """Every file below ``folder`` as the catalogue should list it: relative path, size and
    checksum."""
    digest = xxh3 if algorithm == "xxh3" else sha256
    return {
        str(p.relative_to(folder)): (p.stat().st_size, digest(p))
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def row_counts(session: Session) -> dict[str, int]:
    """Rows per catalogue and harvest table."""
    session.expire_all()
    return {
        table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
        for table in (*CATALOGUE_TABLES, HarvestState, HarvestProblem)
    }


def datasets_at(session: Session, prefix: Path) -> list[str]:
    """Locations of the datasets registered at or below ``prefix``."""
    return list(
        session.scalars(
            select(Dataset.location)
            .where(Dataset.location.startswith(str(prefix)))
            .order_by(Dataset.location)
        )
    )
