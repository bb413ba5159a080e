"""The archive: a raw dataset past its time on disk is packed into a bundle on the archive
tier, the bundle is read back and verified, and only then is the online copy removed.

Each step is committed to ``ArchiveBundle.state`` before the next starts (packing →
packed → verified → complete), so a pass killed anywhere leaves the online copy, or a
verified bundle, or both; the next pass picks the bundle up where it stopped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.audit.service import record
from fairbeam.catalogue.models import Datafile, Dataset, DatasetType, Investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import NotFound
from fairbeam.policy import bundle as files
from fairbeam.policy.bundle import BundleError, Source
from fairbeam.policy.faults import fault_point
from fairbeam.policy.models import (
    ArchiveBundle,
    BundleState,
    RestoreRequest,
    RestoreStatus,
    StorageState,
)
from fairbeam.storage.checksums import file_checksum, split_checksum
from fairbeam.storage.paths import dataset_folder, servable_roots

Sessions = sessionmaker[Session]
LIVE_BUNDLE = (BundleState.packing, BundleState.packed, BundleState.verified, BundleState.complete)


@dataclass(frozen=True)
class ArchiveOutcome:
    """What archiving one dataset did: ``archived``, ``problem`` (nothing removed, the
    reason in ``problem``) or ``skipped`` (not online, nothing to do)."""

    dataset_id: int
    status: str
    bundle_id: int | None = None
    files: int = 0
    size: int = 0
    problem: str = ""


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def years_later(moment: datetime, years: int) -> datetime:
    """``moment`` plus whole years (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def due_for_archive(
    session: Session, settings: Settings, as_of: date, limit: int | None = None
) -> list[int]:
    """Raw datasets on disk for more than online_days (since their start, or since their
    last restore), of kept proposal types, oldest first; read on (storage_state, start)."""
    cutoff = day_start(as_of) - timedelta(days=settings.online_days)
    restored_lately = exists().where(
        RestoreRequest.dataset_id == Dataset.id,
        RestoreRequest.status == RestoreStatus.done,
        RestoreRequest.finished >= cutoff,
    )
    query = (
        select(Dataset.id)
        .join(Investigation, Investigation.id == Dataset.investigation_id)
        .where(
            Dataset.storage_state == StorageState.online,
            Dataset.start < cutoff,
            Dataset.type == DatasetType.raw,
            Investigation.proposal_type.not_in(settings.not_kept_proposal_types),
            ~restored_lately,
        )
        .order_by(Dataset.start, Dataset.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


def bundle_file(settings: Settings, bundle: ArchiveBundle) -> Path:
    """The bundle's tar on the archive tier."""
    return settings.archive / bundle.path


def current_bundle(session: Session, dataset_id: int) -> ArchiveBundle | None:
    """The dataset's newest bundle that still holds (or is becoming) its data."""
    return session.scalars(
        select(ArchiveBundle)
        .where(ArchiveBundle.dataset_id == dataset_id, ArchiveBundle.state.in_(LIVE_BUNDLE))
        .order_by(ArchiveBundle.id.desc())
        .limit(1)
    ).first()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "dataset"


def dataset_root(settings: Settings, dataset: Dataset) -> Path:
    """The real folder of a dataset's files, which must lie inside a servable folder."""
    folder = Path(os.path.realpath(dataset_folder(dataset.location)))
    if not any(folder.is_relative_to(root) for root in servable_roots(settings)):
        raise BundleError(
            f"dataset {dataset.id} is at {folder}, outside the folders this server may read "
            "(FAIRBEAM_DATA_ROOTS, FAIRBEAM_STORAGE): not archived"
        )
    return folder


def _sources(session: Session, settings: Settings, dataset: Dataset) -> tuple[Path, list[Source]]:
    """The dataset's files on disk, checked to exist; BundleError naming the missing ones."""
    folder = dataset_root(settings, dataset)
    rows = session.execute(
        select(Datafile.id, Datafile.path, Datafile.size, Datafile.checksum)
        .where(Datafile.dataset_id == dataset.id)
        .order_by(Datafile.path)
    ).all()
    sources, missing = [], []
    for file_id, path, size, checksum in rows:
        disk = folder / path
        if not disk.resolve().is_relative_to(folder) or not disk.is_file():
            missing.append(path)
        sources.append(Source(file_id, path, disk, size, checksum))
    if missing:
        raise BundleError(
            f"dataset {dataset.id}: {len(missing)} of its {len(rows)} files are not on disk "
            f"under {folder} (first {missing[0]!r}): not archived, nothing removed"
        )
    return folder, sources


def _algorithm(settings: Settings, sources: list[Source]) -> str:
    """The catalogue's checksum algorithm when its files have one, else the setting's."""
    for source in sources:
        algorithm, digest = split_checksum(source.checksum or "")
        if algorithm in ("xxh3", "sha256") and digest:
            return algorithm
    return settings.checksum if settings.checksum != "none" else "xxh3"


def _problem(
    session: Session, dataset_id: int, bundle_id: int | None, problem: str, actor: str
) -> ArchiveOutcome:
    record(session, "archive-problem", "dataset", dataset_id, actor=actor, problem=problem)
    session.commit()
    return ArchiveOutcome(dataset_id, "problem", bundle_id, problem=problem)


def _pack(session: Session, settings: Settings, dataset: Dataset, bundle: ArchiveBundle) -> None:
    """packing → packed: write the bundle and its manifest, durably."""
    folder, sources = _sources(session, settings, dataset)
    header = {
        "dataset": dataset.id,
        "name": dataset.name,
        "investigation": dataset.investigation.code,
        "location": dataset.location,
        "folder": str(folder),
        "bundle": bundle.id,
        "created": utcnow().isoformat(),
    }
    target = bundle_file(settings, bundle)
    files.remove_bundle(target)  # what a killed pass left half-written
    written = files.write_bundle(target, sources, header, _algorithm(settings, sources))
    bundle.state = BundleState.packed
    bundle.file_count = len(sources)
    bundle.size = written.size
    bundle.bundle_size = written.bundle_size
    bundle.checksum = written.checksum
    session.commit()


def _verify(session: Session, settings: Settings, bundle: ArchiveBundle) -> None:
    """packed → verified: read the bundle back against its manifest."""
    files.verify_bundle(bundle_file(settings, bundle), bundle.checksum)
    bundle.state = BundleState.verified
    bundle.verified = utcnow()
    session.commit()


def _check_online_copy(settings: Settings, bundle: ArchiveBundle) -> None:
    """A restored dataset goes back to the archive without packing again, once its files
    on disk are shown to still match the verified bundle's manifest."""
    manifest = files.read_manifest(bundle_file(settings, bundle))
    folder = Path(manifest["folder"])
    for entry in manifest["files"]:
        disk = folder / entry["path"]
        algorithm = manifest["algorithm"]
        if not disk.is_file() or disk.stat().st_size != entry["size"]:
            raise BundleError(f"{disk} is not the file restored from bundle {bundle.id}")
        if file_checksum(disk, algorithm) != entry["checksum"]:
            raise BundleError(f"{disk} changed since it was restored from bundle {bundle.id}")


def remove_empty_folders(folder: Path, paths: list[str]) -> None:
    """Remove the acquisition folders the removal left empty, up to the dataset's own."""
    parents = {(folder / p).parent for p in paths}
    candidates = {folder}
    for parent in parents:
        while parent.is_relative_to(folder) and parent != folder:
            candidates.add(parent)
            parent = parent.parent
    for candidate in sorted(candidates, key=lambda p: len(p.parts), reverse=True):
        try:
            candidate.rmdir()
        except OSError:
            pass  # not empty (other datasets' files, or anything else): kept


def _remove_online(
    session: Session, settings: Settings, dataset: Dataset, bundle: ArchiveBundle, actor: str
) -> None:
    """verified → complete: the catalogue says archived, then the files go."""
    manifest = files.read_manifest(bundle_file(settings, bundle))
    if dataset.storage_state != StorageState.archived:
        session.execute(
            update(Datafile).where(Datafile.dataset_id == dataset.id).values(tier="archive")
        )
        dataset.storage_state = StorageState.archived
        session.commit()
    folder = Path(manifest["folder"])
    for number, entry in enumerate(manifest["files"]):
        (folder / entry["path"]).unlink(missing_ok=True)
        if number == 0:
            fault_point("archive:during-removal")
    remove_empty_folders(folder, [entry["path"] for entry in manifest["files"]])
    bundle.state = BundleState.complete
    bundle.completed = utcnow()
    bundle.keep_until = years_later(dataset.start, settings.retention_years)
    record(
        session,
        "archive",
        "dataset",
        dataset.id,
        actor=actor,
        bundle=bundle.path,
        bundle_id=bundle.id,
        size=bundle.size,
        bundle_size=bundle.bundle_size,
        files=bundle.file_count,
        folder=str(folder),
    )
    session.commit()


def _discard(
    session: Session, settings: Settings, bundle: ArchiveBundle, reason: str, actor: str
) -> None:
    """A bundle that failed verification is removed; the online copy stays."""
    files.remove_bundle(bundle_file(settings, bundle))
    bundle.state = BundleState.deleted
    bundle.deleted = utcnow()
    record(
        session, "archive-failed", "dataset", bundle.dataset_id, actor=actor,
        bundle=bundle.path, bundle_id=bundle.id, reason=reason,
    )  # fmt: skip
    session.commit()


def _new_bundle(session: Session, dataset: Dataset) -> ArchiveBundle:
    bundle = ArchiveBundle(dataset_id=dataset.id, path="", state=BundleState.packing)
    session.add(bundle)
    session.flush()
    bundle.path = f"{_slug(dataset.investigation.code)}/dataset_{dataset.id}_{bundle.id}.tar"
    session.commit()
    return bundle


def archive_dataset(
    sessions: Sessions, settings: Settings, dataset_id: int, actor: str = "policy"
) -> ArchiveOutcome:
    """Archive one dataset, or finish the bundle a killed pass left half-way."""
    with sessions() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            raise NotFound(f"dataset {dataset_id} not found")
        bundle = current_bundle(session, dataset_id)
        if dataset.storage_state in (StorageState.deleted, StorageState.restoring):
            return ArchiveOutcome(dataset_id, "skipped", bundle.id if bundle else None)
        if bundle is not None and bundle.state == BundleState.complete:
            if dataset.storage_state != StorageState.online:
                return ArchiveOutcome(dataset_id, "skipped", bundle.id)
            try:
                _check_online_copy(settings, bundle)
            except (BundleError, OSError) as exc:
                return _problem(session, dataset_id, bundle.id, str(exc), actor)
            bundle.state = BundleState.verified
            session.commit()
        if bundle is None:
            if dataset.storage_state != StorageState.online:
                return ArchiveOutcome(dataset_id, "skipped")
            try:
                _sources(session, settings, dataset)
            except BundleError as exc:
                return _problem(session, dataset_id, None, exc.detail, actor)
            bundle = _new_bundle(session, dataset)
        return _advance(session, settings, dataset, bundle, actor)


def _advance(
    session: Session, settings: Settings, dataset: Dataset, bundle: ArchiveBundle, actor: str
) -> ArchiveOutcome:
    """Take a bundle through its remaining steps, committing each."""
    if bundle.state == BundleState.packing:
        try:
            _pack(session, settings, dataset, bundle)
        except (BundleError, OSError) as exc:
            session.rollback()
            _discard(session, settings, bundle, str(exc), actor)
            return ArchiveOutcome(dataset.id, "problem", bundle.id, problem=str(exc))
        fault_point("archive:after-pack")
    if bundle.state == BundleState.packed:
        try:
            _verify(session, settings, bundle)
        except (BundleError, OSError) as exc:
            session.rollback()
            _discard(session, settings, bundle, str(exc), actor)
            return ArchiveOutcome(dataset.id, "problem", bundle.id, problem=str(exc))
        fault_point("archive:after-verify")
    _remove_online(session, settings, dataset, bundle, actor)
    return ArchiveOutcome(dataset.id, "archived", bundle.id, bundle.file_count, bundle.size)


@dataclass(frozen=True)
class Unfinished:
    """Work a killed pass left half-way: bundles before complete, restores running."""

    bundles: list[int]  # dataset ids
    restores: list[int]  # request ids

    def __bool__(self) -> bool:
        return bool(self.bundles or self.restores)


def unfinished_work(session: Session) -> Unfinished:
    """Bundles left packing, packed or verified, and restores left running."""
    half_way = (BundleState.packing, BundleState.packed, BundleState.verified)
    bundles = session.scalars(
        select(ArchiveBundle.dataset_id)
        .where(ArchiveBundle.state.in_(half_way))
        .order_by(ArchiveBundle.id)
    )
    restores = session.scalars(
        select(RestoreRequest.id)
        .where(RestoreRequest.status == RestoreStatus.running)
        .order_by(RestoreRequest.id)
    )
    return Unfinished(list(dict.fromkeys(bundles)), list(restores))


def resume_unfinished(
    sessions: Sessions, settings: Settings, progress: Callable[[str], Any] | None = None
) -> dict[str, int]:
    """Finish what a killed pass left: bundles are taken to complete (or discarded when
    they fail verification), restores of dead processes queued again; counts."""
    from fairbeam.policy.restore import requeue_abandoned

    with sessions() as session:
        work = unfinished_work(session)
    outcomes = [archive_dataset(sessions, settings, dataset_id) for dataset_id in work.bundles]
    for outcome in outcomes:
        if progress is not None:
            progress(f"dataset {outcome.dataset_id}: {outcome.status}")
    requeued = requeue_abandoned(sessions)
    return {
        "bundles_finished": sum(1 for o in outcomes if o.status == "archived"),
        "bundles_failed": sum(1 for o in outcomes if o.status == "problem"),
        "restores_requeued": requeued,
    }
