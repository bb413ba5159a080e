"""A beamline's tree of 1,000 datasets harvested, harvested again, grown and changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Datafile, Dataset, Investigation
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.events import DATASET_REGISTERED, DatasetRegistered, EventBus
from fairbeam.ingest.models import HarvestState
from fairbeam.ingest.service import Harvester, IngestReport
from tests.ingest import files
from tests.ingest.tree import acquisition, add_facility, row_counts, stored

SAMPLES = 20
PER_SAMPLE = 50


def write_tree(data: Path, numbers: range) -> list[Path]:
    """Acquisitions `numbers` of every sample, as a beamline writes them."""
    return [
        files.write_small_bliss(
            acquisition(data, f"cell{s:02d}", f"{n:04d}"), sample=f"cell{s:02d}"
        )
        for s in range(SAMPLES)
        for n in numbers
    ]


def snapshot(session: Session) -> dict[str, Any]:
    """Every row harvest and registration write, in a comparable form."""
    session.expire_all()
    return {
        "counts": row_counts(session),
        "datasets": session.execute(
            select(Dataset.id, Dataset.location, Dataset.file_count, Dataset.volume_bytes).order_by(
                Dataset.id
            )
        ).all(),
        "files": session.execute(
            select(Datafile.id, Datafile.path, Datafile.size, Datafile.checksum).order_by(
                Datafile.id
            )
        ).all(),
        "audit": session.execute(
            select(AuditRecord.id, AuditRecord.action).order_by(AuditRecord.id)
        ).all(),
        "state": session.execute(
            select(
                HarvestState.location, HarvestState.fingerprint, HarvestState.harvested
            ).order_by(HarvestState.location)
        ).all(),
        "investigation": session.execute(
            select(
                Investigation.dataset_count, Investigation.file_count, Investigation.volume_bytes
            ).where(Investigation.code == "MX-2471")
        ).one(),
    }


def test_thousand_datasets(settings: Settings, engine: Engine, session: Session) -> None:
    add_facility(session)
    data = settings.data_roots[0]
    settings = settings.model_copy(update={"harvest_workers": 2})
    bus = EventBus()
    events: list[DatasetRegistered] = []
    bus.subscribe(DATASET_REGISTERED, events.append)
    harvester = Harvester(make_sessionmaker(engine), settings, SYSTEM, bus)

    def harvest() -> IngestReport:
        events.clear()
        return harvester.ingest([data])

    masters = write_tree(data, range(PER_SAMPLE))
    assert len(masters) == 1000
    report = harvest()
    assert report.summary() == {"created": 1000, "updated": 0, "unchanged": 0, "failed": 0}
    assert len(events) == 1000 and all(e.created for e in events)
    assert len({e.dataset_id for e in events}) == 1000
    first = snapshot(session)
    assert first["counts"]["dataset"] == 1000
    assert first["counts"]["datafile"] == 1000
    assert first["counts"]["harvest_state"] == 1000
    assert first["investigation"] == (
        1000,
        1000,
        sum(m.stat().st_size for m in masters),
    )
    got = stored(session, masters[-1].parent)
    assert (got.dataset.name, got.sample and got.sample.name) == ("cell19_0049", "cell19")
    assert got.parameters["scan_count"] == (2, None)
    assert got.parameters["positioners.samz"] == (1.5, "mm")

    # Harvested again, unchanged: nothing is read, written or announced.
    report = harvest()
    assert report.summary() == {"created": 0, "updated": 0, "unchanged": 1000, "failed": 0}
    assert events == []
    assert snapshot(session) == first

    # Ten more acquisitions: only those are added.
    added = [
        files.write_small_bliss(acquisition(data, "cell00", f"{n:04d}"), sample="cell00")
        for n in range(PER_SAMPLE, PER_SAMPLE + 10)
    ]
    report = harvest()
    assert report.summary() == {"created": 10, "updated": 0, "unchanged": 1000, "failed": 0}
    assert sorted(o.location for o in report.outcomes if o.status == "created") == sorted(
        str(p.parent) for p in added
    )
    assert sorted(e.location for e in events) == sorted(str(p.parent) for p in added)
    second = snapshot(session)
    assert second["counts"]["dataset"] == 1010
    assert second["datasets"][:1000] == first["datasets"]

    # One acquisition goes on: a third scan makes its file grow. It is updated in place.
    grown = masters[123]
    with h5py.File(grown, "a") as f:
        files.entry(f, "3.1", "loopscan 3 0.1")
    report = harvest()
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 1009, "failed": 0}
    assert [(e.location, e.created) for e in events] == [(str(grown.parent), False)]
    third = snapshot(session)
    assert third["counts"]["dataset"] == 1010
    assert third["counts"]["datafile"] == 1010
    got = stored(session, grown.parent)
    assert got.parameters["scan_count"] == (3, None)
    assert got.files == {grown.name: (grown.stat().st_size, got.files[grown.name][1])}
    assert got.dataset.volume_bytes == grown.stat().st_size
    assert third["investigation"] == (
        1010,
        1010,
        sum(m.stat().st_size for m in [*masters, *added]),
    )
    duplicates = session.scalar(
        select(func.count()).select_from(
            select(Dataset.location).group_by(Dataset.location).having(func.count() > 1).subquery()
        )
    )
    assert duplicates == 0
