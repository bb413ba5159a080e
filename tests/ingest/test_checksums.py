"""Checksums harvest computes: xxh3-128 by default, SHA-256 on demand, none, or none for
files over a size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.errors import InvalidInput
from fairbeam.ingest.service import Harvester
from fairbeam.storage.checksums import file_checksum, split_checksum
from tests.ingest import files
from tests.ingest.tree import acquisition, add_facility, sha256, stored, xxh3


def test_file_checksum_over_several_chunks(tmp_path: Path) -> None:
    path = tmp_path / "frames.bin"
    path.write_bytes(os.urandom(9 * 1024 * 1024 + 17))  # more than two 4 MiB reads
    assert file_checksum(path) == xxh3(path)
    assert file_checksum(path, "sha256") == sha256(path)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert file_checksum(empty) == xxh3(empty)
    with pytest.raises(InvalidInput, match="checksum 'md5' is not known; use one of xxh3, sha256"):
        file_checksum(path, "md5")


def test_split_checksum() -> None:
    assert split_checksum("xxh3:00ff") == ("xxh3", "00ff")
    assert split_checksum("sha256:ab") == ("sha256", "ab")
    assert split_checksum("d41d8cd98f00b204") == ("", "d41d8cd98f00b204")


def harvest_frames(settings: Settings, engine: Engine, session: Session) -> tuple[Path, Path]:
    """Harvest one acquisition whose master file is small and whose frame file is not."""
    add_facility(session)
    master = acquisition(settings.data_roots[0], "lyso", "0001")
    files.write_with_external_frames(master, 1, frames=2)
    frames = master.with_name("lyso_0001_data_000001.h5")
    with open(frames, "ab") as stream:  # trailing bytes change the checksum, not the file
        stream.write(np.random.default_rng(1).bytes(200_000))
    report = Harvester(make_sessionmaker(engine), settings, SYSTEM).ingest([master.parent])
    assert report.summary()["created"] == 1
    return master, frames


@pytest.mark.parametrize("algorithm", ["xxh3", "sha256"])
def test_harvest_checksums(
    settings: Settings, engine: Engine, session: Session, algorithm: str
) -> None:
    if algorithm != "xxh3":  # xxh3 is the default
        settings = settings.model_copy(update={"checksum": algorithm})
    master, frames = harvest_frames(settings, engine, session)
    digest = xxh3 if algorithm == "xxh3" else sha256
    assert stored(session, master.parent).files == {
        master.name: (master.stat().st_size, digest(master)),
        frames.name: (frames.stat().st_size, digest(frames)),
    }


def test_harvest_without_checksums(settings: Settings, engine: Engine, session: Session) -> None:
    settings = settings.model_copy(update={"checksum": "none"})
    master, frames = harvest_frames(settings, engine, session)
    assert stored(session, master.parent).files == {
        master.name: (master.stat().st_size, None),
        frames.name: (frames.stat().st_size, None),
    }


def test_no_checksum_over_the_size_limit(
    settings: Settings, engine: Engine, session: Session
) -> None:
    settings = settings.model_copy(update={"checksum_max_bytes": 100_000})
    master, frames = harvest_frames(settings, engine, session)
    assert master.stat().st_size <= 100_000 < frames.stat().st_size
    assert stored(session, master.parent).files == {
        master.name: (master.stat().st_size, xxh3(master)),
        frames.name: (frames.stat().st_size, None),
    }
