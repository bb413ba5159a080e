"""The archive: a raw dataset past its time on disk is packed into a bundle on the archive
tier, the bundle is read back and verified, and only then is the online copy removed
(fairbeam.policy.archive_batch does it). Here: which datasets are due, where their
bundles and folders are, and which bundles a killed pass left unfinished.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Dataset, DatasetType, Investigation
from fairbeam.config import Settings
from fairbeam.policy.bundle import BundleError
from fairbeam.policy.models import (
    UNFINISHED_BUNDLE,
    ArchiveBundle,
    BundleState,
    RestoreRequest,
    RestoreStatus,
    StorageState,
)
from fairbeam.storage.paths import dataset_folder, servable_roots

Sessions = sessionmaker[Session]
LIVE_BUNDLE = (BundleState.packing, BundleState.packed, BundleState.verified, BundleState.complete)


@dataclass(frozen=True)
class ArchiveOutcome:
    """What archiving one dataset did: ``archived``, ``problem`` (nothing removed, the
    reason in ``problem``) or ``skipped`` (not online, nothing to do); with
    ``archive_datasets(stop_at=...)``, the state its bundle was left in."""

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


class _Stored(Protocol):
    """A bundle row, as the ORM or the archive's batch reads it."""

    @property
    def path(self) -> str: ...


class Located(Protocol):
    """A dataset row, as the ORM or the archive's batch reads it."""

    @property
    def id(self) -> int: ...

    @property
    def location(self) -> str: ...


@dataclass(frozen=True)
class DatasetRow:
    """What an archive batch reads of a dataset."""

    id: int
    storage_state: str
    location: str
    name: str
    start: datetime
    investigation: str  # its code


@dataclass
class BundleRow:
    """A bundle of an archive batch, as the batch's statements leave it."""

    id: int
    dataset_id: int
    path: str
    state: str
    checksum: str | None = None
    file_count: int = 0
    size: int = 0
    bundle_size: int = 0


def bundle_file(settings: Settings, bundle: _Stored) -> Path:
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


def problem_already_recorded(session: Session, dataset_id: int, problem: str) -> bool:
    """True when the dataset's newest audit record is this same archive problem: a
    problem is recorded once, until something else happens to the dataset (the pass's
    summary and plan still count it every time)."""
    newest = session.execute(
        select(AuditRecord.action, AuditRecord.detail)
        .where(AuditRecord.object_type == "dataset", AuditRecord.object_id == str(dataset_id))
        .order_by(AuditRecord.id.desc())
        .limit(1)
    ).first()
    return (
        newest is not None
        and newest.action == "archive-problem"
        and (newest.detail or {}).get("problem") == problem
    )


def slug(text: str) -> str:
    """A folder name made of ``text``: what is not a letter, a digit or ._- becomes _."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "dataset"


def dataset_root(settings: Settings, dataset: Located, roots: list[Path] | None = None) -> Path:
    """The real folder of a dataset's files, which must lie inside a servable folder
    (``roots``: servable_roots(settings), when the caller has them)."""
    folder = Path(os.path.realpath(dataset_folder(dataset.location)))
    if not any(folder.is_relative_to(root) for root in roots or servable_roots(settings)):
        raise BundleError(
            f"dataset {dataset.id} is at {folder}, outside the folders this server may read "
            "(FAIRBEAM_DATA_ROOTS, FAIRBEAM_STORAGE): not archived"
        )
    return folder


def remove_empty_folders(folder: Path, paths: list[str]) -> None:
    """Remove the acquisition folders the removal left empty, up to the dataset's own."""
    root = os.path.normpath(folder)
    inside = root.rstrip(os.sep) + os.sep
    candidates = {root}
    for path in paths:  # strings, not Path objects: this runs for every archived file
        parent = os.path.dirname(os.path.normpath(os.path.join(root, path)))
        while parent.startswith(inside) and parent not in candidates:
            candidates.add(parent)
            parent = os.path.dirname(parent)
    for candidate in sorted(candidates, key=lambda p: p.count(os.sep), reverse=True):
        try:
            os.rmdir(candidate)
        except OSError:
            pass  # not empty (other datasets' files, or anything else): kept


@dataclass(frozen=True)
class Unfinished:
    """Work a killed pass left half-way: bundles before complete, restores running."""

    bundles: list[int]  # dataset ids
    restores: list[int]  # request ids

    def __bool__(self) -> bool:
        return bool(self.bundles or self.restores)


def unfinished_work(session: Session) -> Unfinished:
    """Bundles left packing, packed or verified, and restores left running."""
    bundles = session.scalars(
        select(ArchiveBundle.dataset_id)
        .where(ArchiveBundle.state.in_(UNFINISHED_BUNDLE))
        .order_by(ArchiveBundle.id)
    )
    restores = session.scalars(
        select(RestoreRequest.id)
        .where(RestoreRequest.status == RestoreStatus.running)
        .order_by(RestoreRequest.id)
    )
    return Unfinished(list(dict.fromkeys(bundles)), list(restores))
