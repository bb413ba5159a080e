"""Datasets with real files on disk in the small facility of tests/world.py."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile, Instrument, Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.storage.checksums import file_checksum
from fairbeam.transfer.zerocopy import LOOP, PROTOCOL
from tests.conftest import LiveServer
from tests.world import World

# Sizes chosen to cross block and header boundaries; one empty file.
SIZES = {
    "scan.h5": 300_001,
    "frames/frame_0001.edf": 65_536,
    "frames/frame_0002.edf": 1,
    "empty.dat": 0,
    "notes.txt": 1_234,
}


@dataclass
class Stored:
    """A registered dataset whose files are on disk."""

    dataset: int
    folder: Path
    files: dict[str, int] = field(default_factory=dict)  # path -> file id

    def bytes_of(self, path: str) -> bytes:
        """The bytes of one of its files as they are on disk."""
        return (self.folder / path).read_bytes()


@dataclass
class Data:
    """Datasets on disk: open (released), closed (embargoed), foreign (other beamline)."""

    open: Stored
    closed: Stored
    foreign: Stored
    released_code: str  # a released investigation whose only dataset is ``open_too``
    open_too: Stored


def write_dataset(
    session: Session, world: World, root: Path, code: str, name: str, algorithm: str
) -> Stored:
    """Write SIZES under ``root`` and register them (checksums with ``algorithm``)."""
    folder = root / code / name
    files = []
    for index, (path, size) in enumerate(SIZES.items()):
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            os.urandom(size)
            if index % 2 == 0
            else b"0123456789abcdef" * (size // 16) + b"z" * (size % 16)
        )
        files.append({"path": path, "size": size, "checksum": file_checksum(target, algorithm)})
    (result,) = register_datasets(
        session,
        world.principals["manager"],
        [
            DatasetIn(
                investigation=code, name=name, location=str(folder), technique="MX", files=files
            )
        ],
    )
    stored = Stored(result.id, folder)
    for datafile in session.scalars(select(Datafile).where(Datafile.dataset_id == result.id)):
        stored.files[datafile.path] = datafile.id
    return stored


@pytest.fixture
def data(world: World, session: Session, settings: Settings) -> Data:
    """Three datasets with real files, one per kind of access."""
    root = settings.data_roots[0]
    now = utcnow()
    instrument = session.scalar(select(Instrument).where(Instrument.name == "ID23"))
    assert instrument is not None
    session.add(
        Investigation(
            code="MX-0950",
            title="Released with files on disk",
            instrument_id=instrument.id,
            start=now - timedelta(days=900),
            end=now - timedelta(days=899),
            release_date=now - timedelta(days=1),
        )
    )
    session.flush()
    made = Data(
        open=write_dataset(session, world, root, "MX-0900", "open_scan", "xxh3"),
        closed=write_dataset(session, world, root, "MX-1001", "closed_scan", "sha256"),
        foreign=write_dataset(session, world, root, "HC-2000", "foreign_scan", "xxh3"),
        released_code="MX-0950",
        open_too=write_dataset(session, world, root, "MX-0950", "open_scan", "sha256"),
    )
    session.commit()
    return made


@pytest.fixture
def zerocopy_http(settings: Settings, engine: Engine) -> Iterator[httpx.Client]:
    """A client of a server running as `fairbeam serve` does: bytes leave through sendfile."""
    live = LiveServer(settings, engine)
    config = uvicorn.Config(
        live.app, host="127.0.0.1", port=live.port, log_level="warning", http=PROTOCOL, loop=LOOP
    )
    live.server = uvicorn.Server(config)
    live.thread = threading.Thread(target=live.server.run, daemon=True)
    live.start()
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client
    live.stop()
