"""Retention: data the policy does not keep is deleted, with an audit record.

- Datasets of proposal types the facility does not keep (``not_kept_proposal_types``,
  such as industrial) are deleted once past ``online_days``: never archived.
- Raw data is kept ``retention_years`` from the dataset's start (the day it was
  measured, as the policy counts), then deleted from the archive, and from disk if a
  restore brought it back.

The catalogue remembers what existed: the dataset and its datafile rows stay, with
storage_state and tier ``deleted``; metadata stays. Files go first, the catalogue
after, in one transaction with the audit record: a pass killed half-way leaves the
dataset due, and the next pass deletes the rest.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.audit.service import record
from fairbeam.catalogue.models import Datafile, Dataset, DatasetType, Investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import NotFound
from fairbeam.policy import bundle as files
from fairbeam.policy.archive import (
    LIVE_BUNDLE,
    bundle_file,
    dataset_root,
    day_start,
    remove_empty_folders,
    years_later,
)
from fairbeam.policy.bundle import BundleError
from fairbeam.policy.faults import fault_point
from fairbeam.policy.models import (
    ArchiveBundle,
    BundleState,
    RestoreRequest,
    RestoreStatus,
    StorageState,
)

Sessions = sessionmaker[Session]
KEPT_STATES = (StorageState.online, StorageState.archived)


def due_for_deletion(session: Session, settings: Settings, as_of: date) -> list[int]:
    """Datasets of not-kept proposal types past online_days, and raw data past
    retention_years since its start; oldest first, read on (storage_state, start)."""
    online_cutoff = day_start(as_of) - timedelta(days=settings.online_days)
    retention_cutoff = years_later(day_start(as_of), -settings.retention_years)
    not_kept = and_(
        Investigation.proposal_type.in_(settings.not_kept_proposal_types),
        Dataset.start < online_cutoff,
    )
    expired = and_(Dataset.type == DatasetType.raw, Dataset.start < retention_cutoff)
    query = (
        select(Dataset.id)
        .join(Investigation, Investigation.id == Dataset.investigation_id)
        .where(
            Dataset.storage_state.in_(KEPT_STATES),
            Dataset.start < max(online_cutoff, retention_cutoff),
            or_(not_kept, expired),
        )
        .order_by(Dataset.start, Dataset.id)
    )
    return list(session.scalars(query))


def _reason(settings: Settings, dataset: Dataset) -> str:
    kind = dataset.investigation.proposal_type
    if kind in settings.not_kept_proposal_types:
        return (
            f"proposal type {kind!r} is not kept: data deleted {settings.online_days} days "
            "after acquisition"
        )
    return f"end of retention: raw data is kept {settings.retention_years} years from its start"


def _remove_online_files(session: Session, settings: Settings, dataset: Dataset) -> int:
    """Delete the dataset's files on disk (those the catalogue says are online); count."""
    paths = list(
        session.scalars(
            select(Datafile.path).where(
                Datafile.dataset_id == dataset.id, Datafile.tier == "online"
            )
        )
    )
    if not paths:
        return 0
    folder = dataset_root(settings, dataset)
    removed = 0
    for path in paths:
        target = folder / path
        if target.resolve().is_relative_to(folder) and target.is_file():
            target.unlink()
            removed += 1
            if removed == 1:
                fault_point("delete:during-removal")
    remove_empty_folders(folder, paths)
    return removed


def delete_dataset_data(
    sessions: Sessions, settings: Settings, dataset_id: int, as_of: date, actor: str = "policy"
) -> None:
    """Delete a dataset's data (online files and archive bundles) as the policy says, with
    an audit record naming what was deleted and why; the catalogue keeps its rows."""
    with sessions() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            raise NotFound(f"dataset {dataset_id} not found")
        if dataset.storage_state not in KEPT_STATES:
            return  # deleted already, or a restore in hand: the next pass sees it again
        reason = _reason(settings, dataset)
        bundles = list(
            session.scalars(
                select(ArchiveBundle).where(
                    ArchiveBundle.dataset_id == dataset_id, ArchiveBundle.state.in_(LIVE_BUNDLE)
                )
            )
        )
        try:
            removed = _remove_online_files(session, settings, dataset)
        except (BundleError, OSError) as exc:
            record(session, "delete-problem", "dataset", dataset_id, actor=actor, problem=str(exc))
            session.commit()
            return
        for bundle in bundles:
            files.remove_bundle(bundle_file(settings, bundle))
            bundle.state = BundleState.deleted
            bundle.deleted = utcnow()
        session.execute(
            update(Datafile).where(Datafile.dataset_id == dataset_id).values(tier="deleted")
        )
        session.execute(
            update(RestoreRequest)
            .where(RestoreRequest.dataset_id == dataset_id, RestoreRequest.status == "queued")
            .values(status=RestoreStatus.failed, finished=utcnow(), error=f"deleted: {reason}")
        )
        previous = dataset.storage_state
        dataset.storage_state = StorageState.deleted
        record(
            session,
            "delete",
            "dataset",
            dataset_id,
            actor=actor,
            reason=reason,
            as_of=as_of.isoformat(),
            was=previous,
            files=dataset.file_count,
            size=dataset.volume_bytes,
            online_files_removed=removed,
            folder=str(Path(dataset.location)),
            bundles=[bundle.path for bundle in bundles],
        )
        session.commit()
