"""Retention: not-kept proposal types and raw data past its years are deleted, with an
audit record; the catalogue keeps its rows."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile, Dataset
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.policy.archive import bundle_file, current_bundle
from fairbeam.policy.archive_batch import archive_dataset
from fairbeam.policy.bundle import manifest_path
from fairbeam.policy.models import ArchiveBundle, BundleState, RestoreRequest
from fairbeam.policy.restore import run_queued_restores
from fairbeam.policy.retention import delete_dataset_data, due_for_deletion
from tests.policy.archive_data import MEASURED, audit_of, raw_dataset, state_of


def test_not_kept_proposal_data_is_deleted_after_online_days(
    session: Session, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    secret = raw_dataset(session, settings, "IN-0100", "secret_0001", proposal_type="industrial")
    kept = raw_dataset(session, settings, "MX-0100", "kept_0001")
    in_time = MEASURED.date() + timedelta(days=settings.online_days - 1)
    assert due_for_deletion(session, settings, in_time) == []
    day = MEASURED.date() + timedelta(days=settings.online_days + 1)
    assert due_for_deletion(session, settings, day) == [secret.dataset]

    delete_dataset_data(sessions, settings, secret.dataset, day)

    assert secret.on_disk() == {} and not secret.folder.exists()
    assert kept.on_disk() == kept.files
    assert state_of(session, secret.dataset) == ("deleted", {"deleted"})
    # The catalogue remembers what existed: every datafile row and the metadata stay.
    files = session.scalar(
        select(func.count()).select_from(Datafile).where(Datafile.dataset_id == secret.dataset)
    )
    assert files == len(secret.files)
    dataset = session.get(Dataset, secret.dataset)
    assert dataset is not None and dataset.name == "secret_0001"
    (record,) = audit_of(session, secret.dataset, "delete")
    assert record.actor == "policy"
    assert "'industrial' is not kept" in record.detail["reason"]
    assert record.detail["files"] == len(secret.files)
    assert record.detail["online_files_removed"] == len(secret.files)
    assert record.detail["was"] == "online" and record.detail["as_of"] == day.isoformat()
    # Never archived, and not deleted twice.
    assert session.scalar(select(ArchiveBundle.id)) is None
    assert due_for_deletion(session, settings, day) == []
    delete_dataset_data(sessions, settings, secret.dataset, day)
    assert len(audit_of(session, secret.dataset, "delete")) == 1


def test_archived_raw_data_is_deleted_after_retention_years(
    session: Session, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    data = raw_dataset(session, settings, "MX-0200", "old_0001")
    assert archive_dataset(sessions, settings, data.dataset).status == "archived"
    bundle = current_bundle(session, data.dataset)
    assert bundle is not None
    tar = bundle_file(settings, bundle)
    assert tar.exists()
    session.add(RestoreRequest(dataset_id=data.dataset))  # asked, never run: fails with a reason
    session.commit()
    last_day = date(MEASURED.year + settings.retention_years, MEASURED.month, MEASURED.day)
    assert data.dataset not in due_for_deletion(session, settings, last_day)
    after = last_day + timedelta(days=1)
    assert due_for_deletion(session, settings, after) == [data.dataset]

    delete_dataset_data(sessions, settings, data.dataset, after)

    assert not tar.exists() and not manifest_path(tar).exists()
    assert state_of(session, data.dataset) == ("deleted", {"deleted"})
    session.expire_all()
    assert session.get(ArchiveBundle, bundle.id).state == BundleState.deleted  # type: ignore[union-attr]
    request = session.scalars(select(RestoreRequest)).one()
    assert request.status == "failed" and "end of retention" in request.error
    (record,) = audit_of(session, data.dataset, "delete")
    assert "end of retention" in record.detail["reason"]
    assert record.detail["bundles"] == [bundle.path] and record.detail["was"] == "archived"
    assert run_queued_restores(sessions, settings) == 0


def test_restored_data_past_retention_goes_from_disk_and_archive(
    session: Session, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    data = raw_dataset(session, settings, "MX-0300", "back_0001")
    archive_dataset(sessions, settings, data.dataset)
    session.add(RestoreRequest(dataset_id=data.dataset))
    session.commit()
    assert run_queued_restores(sessions, settings) == 1
    assert data.on_disk() == data.files
    later = date(MEASURED.year + settings.retention_years + 1, 1, 1)
    delete_dataset_data(sessions, settings, data.dataset, later)
    assert data.on_disk() == {}
    assert not list(settings.archive.rglob("*.tar"))
    assert state_of(session, data.dataset) == ("deleted", {"deleted"})
    (record,) = audit_of(session, data.dataset, "delete")
    assert record.detail["was"] == "online" and record.detail["online_files_removed"] == 2
