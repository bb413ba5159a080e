"""A policy pass killed (SIGKILL) at each step of archive, restore and deletion loses no
byte, leaves the catalogue consistent, and the next pass finishes the work.

`fairbeam policy run` runs as a real subprocess; FAIRBEAM_FAULT_POINT names the point
where it kills itself (fairbeam.policy.faults).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile, Dataset
from fairbeam.config import Settings
from fairbeam.policy.bundle import BundleError, verify_bundle
from fairbeam.policy.models import ArchiveBundle, BundleState, RestoreRequest
from tests.policy.archive_data import A_YEAR_LATER, MEASURED, OnDisk, raw_dataset, state_of

FAIRBEAM = str(Path(sys.executable).parent / "fairbeam")


def process_env(settings: Settings, fault: str | None = None) -> dict[str, str]:
    """The environment of a fairbeam process on this test's catalogue and folders, killed
    at ``fault`` when one is named."""
    env = {
        **os.environ,
        "FAIRBEAM_DATABASE_URL": settings.database_url,
        "FAIRBEAM_VAR": str(settings.var),
        "FAIRBEAM_STORAGE": str(settings.storage),
        "FAIRBEAM_ARCHIVE": str(settings.archive),
        "FAIRBEAM_DATA_ROOTS": ",".join(str(root) for root in settings.data_roots),
    }
    env.pop("FAIRBEAM_FAULT_POINT", None)
    if fault:
        env["FAIRBEAM_FAULT_POINT"] = fault
    return env


def policy_run(settings: Settings, as_of: date, fault: str | None = None) -> int:
    """Run `fairbeam policy run --as-of` in a fresh process; its exit code (-9: killed)."""
    done = subprocess.run(
        [FAIRBEAM, "policy", "run", "--as-of", as_of.isoformat(), "--json"],
        env=process_env(settings, fault),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(
            f"policy run failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}"
        )
    return done.returncode


def after_the_kill(session: Session) -> None:
    """Forget what the session had loaded. The killed pass is still recorded as running,
    but its process took the pass lock with it, so the next pass starts at once
    (fairbeam.policy.passlock)."""
    session.expire_all()


def bytes_are_safe(session: Session, settings: Settings, data: OnDisk) -> None:
    """Every file's bytes are online (as written) or in a verified bundle, and the
    catalogue says where they are."""
    state, tiers = state_of(session, data.dataset)
    bundles = session.scalars(
        select(ArchiveBundle).where(
            ArchiveBundle.dataset_id == data.dataset,
            ArchiveBundle.state.in_([BundleState.verified, BundleState.complete]),
        )
    ).all()
    in_bundle: dict[str, str] = {}
    for bundle in bundles:
        try:
            manifest = verify_bundle(settings.archive / bundle.path, bundle.checksum)
        except BundleError as exc:
            raise AssertionError(f"bundle {bundle.id} is {bundle.state} but fails: {exc}") from exc
        in_bundle.update({f["path"]: f["checksum"] for f in manifest["files"]})
    algorithm = "xxh3"
    for path, written in data.files.items():
        disk = data.folder / path
        online = disk.is_file() and disk.read_bytes() == written
        archived = in_bundle.get(path) == file_checksum_of(written, algorithm)
        assert online or archived, f"{path} of dataset {data.dataset} is lost"
    if state == "online":
        assert tiers == {"online"} and data.on_disk() == data.files
    elif state == "archived":
        assert tiers == {"archive"} and len(in_bundle) == len(data.files)
    else:
        assert state == "restoring" and len(in_bundle) == len(data.files)


def file_checksum_of(data: bytes, algorithm: str) -> str:
    from fairbeam.storage.checksums import new_hasher

    hasher = new_hasher(algorithm)
    hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"


def nothing_left_half_way(session: Session, settings: Settings) -> None:
    session.expire_all()
    half = [BundleState.packing, BundleState.packed, BundleState.verified]
    assert session.scalar(select(ArchiveBundle.id).where(ArchiveBundle.state.in_(half))) is None
    assert not list(settings.archive.rglob("*.part"))
    assert not list(settings.data_roots[0].rglob("*.fairbeam-restore"))


def a_pass_archives_them_all(session: Session, settings: Settings, datasets: list[OnDisk]) -> None:
    """The next pass (once the killed one is taken for dead) finishes every dataset."""
    after_the_kill(session)
    assert policy_run(settings, A_YEAR_LATER) == 0

    for data in datasets:
        bytes_are_safe(session, settings, data)
        assert state_of(session, data.dataset) == ("archived", {"archive"})
        assert data.on_disk() == {} and not data.folder.exists()
    nothing_left_half_way(session, settings)


@pytest.mark.parametrize(
    "fault", ["archive:after-pack", "archive:after-verify", "archive:during-removal"]
)
def test_archive_killed_then_finished(session: Session, settings: Settings, fault: str) -> None:
    datasets = [raw_dataset(session, settings, "MX-3001", f"kill_{n:04d}") for n in range(2)]

    assert policy_run(settings, A_YEAR_LATER, fault) == -signal.SIGKILL

    for data in datasets:
        bytes_are_safe(session, settings, data)
    first = state_of(session, datasets[0].dataset)[0]
    if fault == "archive:during-removal":
        # The batch was switched to archived before any file went; the second dataset's
        # bytes are safe (above) whether or not its batch reached removal.
        assert first == "archived"
    else:
        assert first == "online"
        assert state_of(session, datasets[1].dataset) == ("online", {"online"})

    a_pass_archives_them_all(session, settings, datasets)
    complete = session.scalars(
        select(ArchiveBundle.dataset_id).where(ArchiveBundle.state == BundleState.complete)
    ).all()
    assert sorted(complete) == sorted(d.dataset for d in datasets)


ARCHIVE_BATCH = """
import sys
from fairbeam.config import load_settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.policy.archive_batch import archive_datasets

settings = load_settings()
sessions = make_sessionmaker(make_engine(settings.database_url))
ids = [int(a) for a in sys.argv[3:]]
archive_datasets(sessions, settings, ids, batch=int(sys.argv[1]), lanes=int(sys.argv[2]))
"""


def archive_batches(settings: Settings, ids: list[int], batch: int, lanes: int, fault: str) -> None:
    """archive_datasets (what the pass runs on its due datasets) in a fresh process that
    is killed at ``fault``."""
    args = [sys.executable, "-c", ARCHIVE_BATCH, str(batch), str(lanes), *map(str, ids)]
    env = process_env(settings, fault)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


REACHED = {
    "archive:during-pack": BundleState.packing,
    "archive:after-pack": BundleState.packed,
    "archive:after-verify": BundleState.verified,
    "archive:during-removal": BundleState.verified,
}


@pytest.mark.parametrize("lanes", [1, 2])
@pytest.mark.parametrize("fault", list(REACHED))
def test_archive_batch_killed_then_finished(
    session: Session, settings: Settings, fault: str, lanes: int
) -> None:
    """Three datasets archived two per batch, killed inside a batch: a batch's bundles
    are all at one state (each step is one commit), every byte is online or in a
    verified bundle, and a pass finishes all three. With one lane the third dataset's
    batch has not started; with two (PostgreSQL) it runs beside the first."""
    datasets = [raw_dataset(session, settings, "MX-3004", f"batch_{n:04d}") for n in range(3)]
    ids = [data.dataset for data in datasets]

    archive_batches(settings, ids, 2, lanes, fault)

    for data in datasets:
        bytes_are_safe(session, settings, data)
    session.expire_all()
    states = dict(session.execute(select(ArchiveBundle.dataset_id, ArchiveBundle.state)).all())
    assert states.get(ids[0]) == states.get(ids[1])
    side_by_side = lanes > 1 and settings.database_url.startswith("postgresql")
    if side_by_side:
        assert REACHED[fault] in (states.get(ids[0]), states.get(ids[2]))
    else:
        assert states == {ids[0]: REACHED[fault], ids[1]: REACHED[fault]}
        storage = "archived" if fault == "archive:during-removal" else "online"
        assert [state_of(session, i)[0] for i in ids] == [storage, storage, "online"]
        if fault == "archive:during-removal":
            assert 0 < len(datasets[0].on_disk()) + len(datasets[1].on_disk()) < 4

    a_pass_archives_them_all(session, settings, datasets)
    session.expire_all()
    bundles = session.execute(select(ArchiveBundle.dataset_id, ArchiveBundle.state)).all()
    # One bundle each: those left half-way were finished (packing ones rewritten in place).
    assert sorted(bundles) == sorted((i, BundleState.complete) for i in ids)


def test_restore_killed_mid_extract_then_finished(session: Session, settings: Settings) -> None:
    data = raw_dataset(session, settings, "MX-3002", "back_0001")
    assert policy_run(settings, A_YEAR_LATER) == 0
    assert state_of(session, data.dataset) == ("archived", {"archive"})
    session.add(RestoreRequest(dataset_id=data.dataset))
    session.commit()

    assert policy_run(settings, A_YEAR_LATER, "restore:during-extract") == -signal.SIGKILL

    bytes_are_safe(session, settings, data)
    assert state_of(session, data.dataset)[0] == "restoring"

    after_the_kill(session)
    assert policy_run(settings, A_YEAR_LATER) == 0

    assert state_of(session, data.dataset) == ("online", {"online"})
    assert data.on_disk() == data.files
    bytes_are_safe(session, settings, data)
    nothing_left_half_way(session, settings)
    session.expire_all()
    assert [r.status for r in session.scalars(select(RestoreRequest))] == ["done"]


def test_deletion_killed_then_finished(session: Session, settings: Settings) -> None:
    data = raw_dataset(session, settings, "IN-3003", "secret_0001", proposal_type="industrial")
    kept = raw_dataset(session, settings, "MX-3003", "kept_0001", start=MEASURED)
    day = date(MEASURED.year, 12, 1)

    assert policy_run(settings, day, "delete:during-removal") == -signal.SIGKILL

    # Killed half-way: the dataset is still due, the other is untouched.
    assert 0 < len(data.on_disk()) < len(data.files)
    assert state_of(session, data.dataset)[0] == "online"
    bytes_are_safe(session, settings, kept)

    after_the_kill(session)
    assert policy_run(settings, day) == 0

    assert data.on_disk() == {} and state_of(session, data.dataset) == ("deleted", {"deleted"})
    session.expire_all()
    assert session.get(Dataset, data.dataset) is not None
    rows = session.scalars(select(Datafile.tier).where(Datafile.dataset_id == data.dataset))
    assert list(rows) == ["deleted"] * len(data.files)
    bytes_are_safe(session, settings, kept)
