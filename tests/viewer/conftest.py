"""The viewer's sample files registered in the small facility of tests/world.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.config import Settings
from tests.viewer import files
from tests.viewer.files import Files
from tests.world import World


@pytest.fixture
def h5(world: World, session: Session, settings: Settings, tmp_path: Path) -> Files:
    """sample.h5 and notes.txt in a released dataset, sample.h5 in an embargoed one."""
    root = settings.data_roots[0]
    outside = tmp_path / "elsewhere"
    ids: dict[tuple[str, str], int] = {}
    for code in ("MX-0900", "MX-1001"):
        folder = root / code / "viewer"
        files.write_sample(folder, outside)
        (result,) = register_datasets(
            session,
            world.principals["manager"],
            [
                DatasetIn(
                    investigation=code,
                    name="viewer",
                    location=str(folder),
                    technique="MX",
                    files=[{"path": "sample.h5", "size": 1}, {"path": "notes.txt", "size": 1}],
                )
            ],
        )
        for datafile in session.scalars(select(Datafile).where(Datafile.dataset_id == result.id)):
            ids[(code, datafile.path)] = datafile.id
    session.commit()
    return Files(
        sample=ids[("MX-0900", "sample.h5")],
        notes=ids[("MX-0900", "notes.txt")],
        closed_sample=ids[("MX-1001", "sample.h5")],
        path=root / "MX-0900" / "viewer" / "sample.h5",
    )
