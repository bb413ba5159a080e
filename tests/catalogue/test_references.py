"""Files and parameters always belong to a dataset that exists, on both engines.

PostgreSQL checks these references once per statement (migration 0002) instead of
with per-row foreign keys; the guarantees must be the ones a foreign key gives.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairbeam.catalogue.bulk import copy_rows
from fairbeam.catalogue.models import Datafile, Dataset, DatasetParameter, ParameterType
from fairbeam.catalogue.registration import PARAMETER_COLUMNS, register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from tests.conftest import ENGINE
from tests.world import World

MISSING = 987_654


def test_a_file_of_a_missing_dataset_is_refused(session: Session, world: World) -> None:
    with pytest.raises(IntegrityError):
        session.execute(insert(Datafile).values(dataset_id=MISSING, path="a.h5", size=1))
        session.flush()
    session.rollback()


def test_a_copied_file_of_a_missing_dataset_is_refused(session: Session, world: World) -> None:
    rows = [(world.open_dataset, "ok.h5", 1, None, "online"), (MISSING, "b.h5", 1, None, "online")]
    with pytest.raises(IntegrityError):
        copy_rows(session, "datafile", ("dataset_id", "path", "size", "checksum", "tier"), rows)
        session.flush()
    session.rollback()
    assert session.scalar(select(func.count()).where(Datafile.path == "ok.h5")) == 0


def test_a_file_moved_to_a_missing_dataset_is_refused(session: Session, world: World) -> None:
    with pytest.raises(IntegrityError):
        session.execute(
            Datafile.__table__.update()
            .where(Datafile.dataset_id == world.open_dataset)
            .values(dataset_id=MISSING)
        )
        session.flush()
    session.rollback()


def test_a_parameter_needs_its_dataset_and_type(session: Session, world: World) -> None:
    type_id = session.scalar(select(ParameterType.id).limit(1))
    assert type_id is not None
    for dataset_id, kind in ((MISSING, type_id), (world.open_dataset, MISSING)):
        with pytest.raises(IntegrityError):
            session.execute(
                insert(DatasetParameter).values(dataset_id=dataset_id, type_id=kind, value=1)
            )
            session.flush()
        session.rollback()


def test_deleting_a_dataset_deletes_its_files_and_parameters(
    session: Session, world: World
) -> None:
    dataset = world.open_dataset
    assert session.scalar(select(func.count()).where(Datafile.dataset_id == dataset))
    session.execute(delete(Dataset).where(Dataset.id == dataset))
    session.commit()
    assert session.scalar(select(func.count()).where(Datafile.dataset_id == dataset)) == 0
    assert session.scalar(select(func.count()).where(DatasetParameter.dataset_id == dataset)) == 0


def test_a_parameter_type_in_use_cannot_be_deleted(session: Session, world: World) -> None:
    used = session.scalar(select(DatasetParameter.type_id).limit(1))
    assert used is not None
    with pytest.raises(IntegrityError):
        session.execute(delete(ParameterType).where(ParameterType.id == used))
        session.flush()
    session.rollback()


@pytest.mark.skipif(ENGINE != "postgresql", reason="PostgreSQL's statement triggers")
def test_the_checks_look_datasets_up_by_key_instead_of_reading_the_table(
    session: Session, world: World
) -> None:
    # Enough datasets that reading the whole table into a hash, as the checks once did
    # for every batch, is the cheaper plan for a NOT EXISTS over a batch's files.
    manager = world.principals["manager"]
    items = [
        DatasetIn(investigation="MX-0900", name=f"scan_{n}", location=f"/data/scan_{n}")
        for n in range(3000)
    ]
    ids = [r.id for r in register_datasets(session, manager, items)]
    session.commit()
    session.execute(text("ANALYZE dataset"))
    # This backend's scans of the table not yet sent to the statistics, read twice in
    # one transaction (none are sent in between).
    scans = text("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'dataset'")
    before = session.scalar(scans)
    type_id = session.scalar(select(ParameterType.id).limit(1))
    files = [(i, f"f_{n}.h5", 1, None, "online") for i in ids[:100] for n in range(300)]
    copy_rows(session, "datafile", ("dataset_id", "path", "size", "checksum", "tier"), files)
    parameters = [(i, type_id, "1", None, "1", 1.0, None, None) for i in ids[:100]]
    copy_rows(session, "dataset_parameter", PARAMETER_COLUMNS, parameters)
    assert session.scalar(scans) == before
    session.commit()
    counted = select(func.count()).select_from(Datafile).where(Datafile.dataset_id.in_(ids))
    assert session.scalar(counted) == 30_000
