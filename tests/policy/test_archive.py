"""The archive tier: pack, read back, verify, remove the online copy; and back again."""

from __future__ import annotations

import json
import tarfile
from datetime import date, timedelta
from pathlib import Path

import h5py
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile, Dataset, DatasetType
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.policy.archive import due_for_archive, unfinished_work
from fairbeam.policy.archive_batch import archive_dataset, archive_datasets
from fairbeam.policy.bundle import MANIFEST_MEMBER, manifest_path, read_manifest
from fairbeam.policy.models import ArchiveBundle, BundleState, RestoreRequest
from fairbeam.policy.restore import run_queued_restores
from fairbeam.storage.checksums import file_checksum
from tests.policy.archive_data import (
    A_YEAR_LATER,
    MEASURED,
    audit_of,
    corrupt,
    raw_dataset,
    state_of,
)


def bundle_of(session: Session, dataset_id: int) -> ArchiveBundle:
    session.expire_all()
    return session.scalars(
        select(ArchiveBundle)
        .where(ArchiveBundle.dataset_id == dataset_id)
        .order_by(ArchiveBundle.id.desc())
    ).first()  # type: ignore[return-value]


def test_archive_and_restore_byte_for_byte(
    session: Session, engine: Engine, settings: Settings
) -> None:
    data = raw_dataset(session, settings, "MX-2001", "lyso_0001", extra={"empty.dat": b""})
    sessions = make_sessionmaker(engine)

    outcome = archive_dataset(sessions, settings, data.dataset)

    assert outcome.status == "archived" and outcome.files == len(data.files)
    assert outcome.size == sum(len(b) for b in data.files.values())
    assert state_of(session, data.dataset) == ("archived", {"archive"})
    # The online copy is gone, its acquisition folders with it.
    assert data.on_disk() == {} and not data.folder.exists()
    bundle = bundle_of(session, data.dataset)
    assert bundle.state == BundleState.complete and bundle.verified and bundle.completed
    assert bundle.keep_until is not None and bundle.keep_until.year == MEASURED.year + 10
    tar_path = settings.archive / bundle.path
    assert bundle.bundle_size == tar_path.stat().st_size
    # A plain tar any tool reads, holding every file and the manifest, which is also beside it.
    manifest = read_manifest(tar_path)
    with tarfile.open(tar_path) as tar:
        assert tar.getnames() == [*sorted(data.files), MANIFEST_MEMBER]
        for path, expected in data.files.items():
            member = tar.extractfile(path)
            assert member is not None and member.read() == expected
        inner = tar.extractfile(MANIFEST_MEMBER)
        assert inner is not None and json.loads(inner.read()) == manifest
    assert json.loads(manifest_path(tar_path).read_text()) == manifest
    catalogue = dict(
        session.execute(
            select(Datafile.path, Datafile.checksum).where(Datafile.dataset_id == data.dataset)
        ).all()
    )
    assert {f["path"]: f["checksum"] for f in manifest["files"]} == catalogue
    assert manifest["algorithm"] == "xxh3" and manifest["folder"] == str(data.folder)
    (audit,) = audit_of(session, data.dataset, "archive")
    assert audit.actor == "policy"
    assert audit.detail["bundle"] == bundle.path and audit.detail["files"] == len(data.files)
    assert audit.detail["size"] == outcome.size

    # A restore brings every byte back to its place, verified; the bundle stays.
    session.add(RestoreRequest(dataset_id=data.dataset))
    session.commit()
    assert run_queued_restores(sessions, settings) == 1
    assert data.on_disk() == data.files
    assert state_of(session, data.dataset) == ("online", {"online"})
    with h5py.File(data.folder / "lyso_0001.h5") as handle:
        assert handle["entry"].attrs["NX_class"] == "NXentry"
        assert handle["entry/data"].shape == (4, 64, 64)
    assert bundle_of(session, data.dataset).state == BundleState.complete
    assert tar_path.exists()
    (restored,) = audit_of(session, data.dataset, "restore")
    assert restored.detail["files"] == len(data.files)
    assert not list(data.folder.rglob("*.fairbeam-restore*"))

    # Online again for online_days since the restore, then removed again without packing.
    sessions_due = due_for_archive(session, settings, date.today())
    assert data.dataset not in sessions_due
    later = date.today() + timedelta(days=settings.online_days + 1)
    assert data.dataset in due_for_archive(session, settings, later)
    again = archive_dataset(sessions, settings, data.dataset)
    assert again.status == "archived" and again.bundle_id == bundle.id
    assert data.on_disk() == {} and state_of(session, data.dataset)[0] == "archived"
    assert session.scalar(select(ArchiveBundle.id).where(ArchiveBundle.id != bundle.id)) is None


def test_corrupted_bundle_is_caught_and_the_online_copy_kept(
    session: Session, engine: Engine, settings: Settings
) -> None:
    data = raw_dataset(session, settings, "MX-2002", "lyso_0002")
    sessions = make_sessionmaker(engine)
    # Pack only, as a pass killed right after packing leaves it; then the medium rots.
    (packed,) = archive_datasets(sessions, settings, [data.dataset], stop_at=BundleState.packed)
    assert packed.status == BundleState.packed
    bundle = bundle_of(session, data.dataset)
    assert bundle.state == BundleState.packed
    tar_path = settings.archive / bundle.path
    first = read_manifest(tar_path)["files"][0]
    corrupt(tar_path, first["offset"] + first["size"] // 2)

    outcome = archive_dataset(sessions, settings, data.dataset)

    assert outcome.status == "problem" and "does not match its manifest" in outcome.problem
    assert data.on_disk() == data.files  # nothing removed
    assert state_of(session, data.dataset) == ("online", {"online"})
    assert bundle_of(session, data.dataset).state == BundleState.deleted
    assert not tar_path.exists() and not manifest_path(tar_path).exists()
    (failed,) = audit_of(session, data.dataset, "archive-failed")
    assert "does not match" in failed.detail["reason"]
    # The next pass packs a fresh bundle and finishes.
    assert archive_dataset(sessions, settings, data.dataset).status == "archived"
    assert data.on_disk() == {} and state_of(session, data.dataset)[0] == "archived"


def test_missing_or_changed_files_are_not_archived(
    session: Session, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    missing = raw_dataset(session, settings, "MX-2003", "gone_0001")
    (missing.folder / "scan0001" / "frames_0000.h5").unlink()
    outcome = archive_dataset(sessions, settings, missing.dataset)
    assert outcome.status == "problem"
    assert (
        "1 of its 2 files are not on disk" in outcome.problem
        and "nothing removed" in outcome.problem
    )
    assert (missing.folder / "gone_0001.h5").exists()
    assert state_of(session, missing.dataset) == ("online", {"online"})
    assert audit_of(session, missing.dataset, "archive-problem")
    assert session.scalar(select(ArchiveBundle.id)) is None

    changed = raw_dataset(session, settings, "MX-2003", "changed_0001")
    target = changed.folder / "changed_0001.h5"
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    outcome = archive_dataset(sessions, settings, changed.dataset)
    assert outcome.status == "problem" and "catalogue's checksum" in outcome.problem
    assert target.read_bytes() == bytes(data)
    assert state_of(session, changed.dataset) == ("online", {"online"})
    assert not list(settings.archive.rglob("*.tar"))


def test_sha256_catalogue_checksums_are_kept_in_the_manifest(
    session: Session, engine: Engine, settings: Settings
) -> None:
    data = raw_dataset(session, settings, "MX-2004", "sha_0001", checksums=False)
    for path in data.files:
        session.execute(
            update(Datafile)
            .where(Datafile.dataset_id == data.dataset, Datafile.path == path)
            .values(checksum=file_checksum(data.folder / path, "sha256"))
        )
    session.commit()
    assert archive_dataset(make_sessionmaker(engine), settings, data.dataset).status == "archived"
    bundle = bundle_of(session, data.dataset)
    manifest = read_manifest(settings.archive / bundle.path)
    assert manifest["algorithm"] == "sha256"
    assert all(f["checksum"].startswith("sha256:") for f in manifest["files"])


def test_what_is_due_for_archive(session: Session, settings: Settings) -> None:
    old = raw_dataset(session, settings, "MX-2005", "old_0001")
    recent = raw_dataset(
        session, settings, "MX-2005", "recent_0001", start=MEASURED + timedelta(days=300)
    )
    processed = raw_dataset(session, settings, "MX-2005", "processed_0001")
    industrial = raw_dataset(
        session, settings, "IN-0001", "secret_0001", proposal_type="industrial"
    )
    session.execute(
        update(Dataset).where(Dataset.id == processed.dataset).values(type=DatasetType.processed)
    )
    session.commit()
    due = due_for_archive(session, settings, A_YEAR_LATER - timedelta(days=200))
    assert due == [old.dataset]
    assert due_for_archive(session, settings, A_YEAR_LATER + timedelta(days=365)) == [
        old.dataset,
        recent.dataset,
    ]
    assert due_for_archive(session, settings, MEASURED.date()) == []
    assert due_for_archive(session, settings, A_YEAR_LATER, limit=1) == [old.dataset]
    assert industrial.dataset not in due_for_archive(session, settings, date(2030, 1, 1))


def test_archived_dataset_is_skipped_and_nothing_is_unfinished(
    session: Session, engine: Engine, settings: Settings
) -> None:
    data = raw_dataset(session, settings, "MX-2006", "twice_0001")
    sessions = make_sessionmaker(engine)
    assert archive_dataset(sessions, settings, data.dataset).status == "archived"
    assert archive_dataset(sessions, settings, data.dataset).status == "skipped"
    assert not unfinished_work(session)
    assert len(audit_of(session, data.dataset, "archive")) == 1
    assert isinstance(settings.archive, Path)


def test_a_batch_archives_each_dataset_on_its_own_merits(
    session: Session, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    good = [raw_dataset(session, settings, "MX-2007", f"good_{n:04d}") for n in range(3)]
    missing = raw_dataset(session, settings, "MX-2007", "gone_0002")
    (missing.folder / "gone_0002.h5").unlink()
    changed = raw_dataset(session, settings, "MX-2008", "changed_0002")
    target = changed.folder / "scan0001" / "frames_0000.h5"
    corrupt(target, target.stat().st_size // 2)
    done = raw_dataset(session, settings, "MX-2008", "done_0001")
    assert archive_dataset(sessions, settings, done.dataset).status == "archived"
    ids = [good[0], missing, good[1], changed, done, good[2]]
    wanted = [d.dataset for d in ids] + [10**9]

    outcomes = archive_datasets(sessions, settings, wanted, batch=4)

    assert [o.dataset_id for o in outcomes] == wanted
    statuses = [o.status for o in outcomes]
    assert statuses == [
        "archived",
        "problem",
        "archived",
        "problem",
        "skipped",
        "archived",
        "skipped",
    ]
    for data in good:
        assert state_of(session, data.dataset) == ("archived", {"archive"})
        assert data.on_disk() == {} and not data.folder.exists()
        bundle = bundle_of(session, data.dataset)
        assert bundle.state == BundleState.complete
        manifest = read_manifest(settings.archive / bundle.path)
        assert {f["path"] for f in manifest["files"]} == set(data.files)
        assert len(audit_of(session, data.dataset, "archive")) == 1
    # Nothing of the other two was removed; each says why.
    assert state_of(session, missing.dataset) == ("online", {"online"})
    assert missing.on_disk() == {p: b for p, b in missing.files.items() if p != "gone_0002.h5"}
    assert "not on disk" in outcomes[1].problem and outcomes[1].bundle_id is None
    assert audit_of(session, missing.dataset, "archive-problem")
    assert state_of(session, changed.dataset) == ("online", {"online"})
    assert "catalogue's checksum" in outcomes[3].problem
    assert bundle_of(session, changed.dataset).state == BundleState.deleted
    assert audit_of(session, changed.dataset, "archive-failed")
    # Only the archived dataset's bundle and manifest are left in the archive of MX-2008.
    kept = Path(bundle_of(session, done.dataset).path).name
    assert sorted(p.name for p in (settings.archive / "MX-2008").iterdir()) == [
        kept.removesuffix(".tar") + ".manifest.json",
        kept,
    ]
    assert not list(settings.archive.rglob("*.part")) and not unfinished_work(session)
