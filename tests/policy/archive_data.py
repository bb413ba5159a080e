"""Raw datasets with HDF5 files written by h5py under the test's data root, old enough
for the archive, and helpers to look at bytes, bundles and the catalogue."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import h5py
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Datafile, Dataset, Instrument, Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.config import Settings
from fairbeam.storage.checksums import file_checksum

# Measured in 2020; archived by a pass in 2021 (past 90 days), deleted after 2030.
MEASURED = datetime(2020, 3, 2, 9, 0, tzinfo=UTC)
A_YEAR_LATER = date(2021, 3, 2)


@dataclass
class OnDisk:
    """A registered raw dataset whose files are on disk."""

    dataset: int
    folder: Path
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes written

    def on_disk(self) -> dict[str, bytes]:
        """Its files' bytes as they are on disk now (the missing ones left out)."""
        return {p: (self.folder / p).read_bytes() for p in self.files if (self.folder / p).exists()}


def investigation(session: Session, code: str, proposal_type: str = "standard") -> Investigation:
    """An investigation on beamline ID23 (made if needed) measured at MEASURED."""
    instrument = session.scalar(select(Instrument).where(Instrument.name == "ID23"))
    if instrument is None:
        instrument = Instrument(name="ID23", techniques=["MX"])
        session.add(instrument)
        session.flush()
    found = session.scalar(select(Investigation).where(Investigation.code == code))
    if found is not None:
        return found
    inv = Investigation(
        code=code,
        title=f"Proposal {code}",
        instrument_id=instrument.id,
        start=MEASURED,
        end=MEASURED,
        proposal_type=proposal_type,
    )
    session.add(inv)
    session.flush()
    return inv


def write_h5(path: Path, seed: int, frames: int = 4) -> None:
    """An HDF5 file with a NeXus-like entry and compressed-looking detector frames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.create_dataset("data", data=rng.integers(0, 2**16, (frames, 64, 64), dtype="u2"))
        entry.create_dataset("title", data=f"scan {seed}")


def raw_dataset(
    session: Session,
    settings: Settings,
    code: str,
    name: str,
    *,
    start: datetime = MEASURED,
    proposal_type: str = "standard",
    checksums: bool = True,
    extra: dict[str, bytes] | None = None,
) -> OnDisk:
    """A raw dataset with two h5py files and ``extra`` files, registered with checksums."""
    investigation(session, code, proposal_type)
    folder = settings.data_roots[0] / code / name
    write_h5(folder / f"{name}.h5", seed=zlib.crc32(name.encode()))
    write_h5(folder / "scan0001" / "frames_0000.h5", seed=zlib.crc32(name.encode()) + 1, frames=16)
    for path, data in (extra or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    files = [
        {
            "path": p,
            "size": (folder / p).stat().st_size,
            **({"checksum": file_checksum(folder / p)} if checksums else {}),
        }
        for p in paths
    ]
    (result,) = register_datasets(
        session,
        SYSTEM,
        [
            DatasetIn(
                investigation=code,
                name=name,
                location=str(folder),
                technique="MX",
                start=start,
                files=files,
            )
        ],
    )
    session.commit()
    return OnDisk(result.id, folder, {p: (folder / p).read_bytes() for p in paths})


def state_of(session: Session, dataset_id: int) -> tuple[str, set[str]]:
    """The dataset's storage state and its files' tiers, as the database holds them."""
    session.expire_all()
    dataset = session.get(Dataset, dataset_id)
    assert dataset is not None
    tiers = set(session.scalars(select(Datafile.tier).where(Datafile.dataset_id == dataset_id)))
    return dataset.storage_state, tiers


def audit_of(session: Session, dataset_id: int, action: str) -> list[AuditRecord]:
    """The dataset's audit records of ``action``, oldest first."""
    session.expire_all()
    return list(
        session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.object_type == "dataset",
                AuditRecord.object_id == str(dataset_id),
                AuditRecord.action == action,
            )
            .order_by(AuditRecord.id)
        )
    )


def corrupt(path: Path, at: int) -> None:
    """Flip one byte of ``path`` at offset ``at``, as a failing tape would."""
    with path.open("r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 0xFF]))
        handle.flush()
        os.fsync(handle.fileno())
