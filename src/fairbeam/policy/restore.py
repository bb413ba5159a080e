"""Restores: a request brings an archived dataset back online from its bundle.

A request is queued (once per dataset while one is queued or running), claimed by one
worker with a conditional UPDATE, extracted to the dataset's original folder (each
file through a temporary name, checked against the manifest, then renamed), and only
then does the catalogue say online. The bundle stays: the dataset remains archived and
goes back to the archive tier online_days after the restore, without packing again.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.policy import Principal, dataset_filter, require_login
from fairbeam.audit.service import record
from fairbeam.catalogue.datasets import get_dataset
from fairbeam.catalogue.models import Datafile, Dataset, Investigation
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.service import paginate
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import Conflict, InvalidInput, NotFound
from fairbeam.policy import bundle as files
from fairbeam.policy.archive import bundle_file, current_bundle
from fairbeam.policy.bundle import BundleError
from fairbeam.policy.faults import fault_point
from fairbeam.policy.models import BundleState, RestoreRequest, RestoreStatus, StorageState
from fairbeam.policy.restore_schemas import RestoreOut
from fairbeam.storage.checksums import split_checksum

Sessions = sessionmaker[Session]
WAITING = (RestoreStatus.queued, RestoreStatus.running)
# A running restore whose process died on another host is taken up again after this.
ABANDONED_AFTER = timedelta(hours=6)


def restore_out(request: RestoreRequest) -> RestoreOut:
    """The API view of a restore request (``error`` holds only a failure's reason)."""
    return RestoreOut(
        id=request.id,
        dataset=request.dataset_id,
        status=request.status,
        created=request.created,
        started=request.started,
        finished=request.finished,
        error=request.error if request.status == RestoreStatus.failed else "",
    )


def _waiting(session: Session, dataset_id: int) -> RestoreRequest | None:
    return session.scalars(
        select(RestoreRequest)
        .where(RestoreRequest.dataset_id == dataset_id, RestoreRequest.status.in_(WAITING))
        .order_by(RestoreRequest.id)
        .limit(1)
    ).first()


def request_restore(session: Session, principal: Principal, dataset_id: int) -> RestoreRequest:
    """Queue a restore of an archived dataset (the one already queued or running, if
    any); 404 unseen, 401 anonymous, 409 online or deleted. The caller commits."""
    dataset = get_dataset(session, principal, dataset_id)
    require_login(principal)
    waiting = _waiting(session, dataset_id)
    if waiting is not None:
        return waiting
    if dataset.storage_state == StorageState.online:
        raise Conflict(
            f"dataset {dataset_id} is online: its files are on disk, there is nothing to restore"
        )
    if dataset.storage_state == StorageState.deleted:
        raise Conflict(
            f"dataset {dataset_id} was deleted by the data policy (see the audit trail): "
            "its data cannot be restored"
        )
    request = RestoreRequest(dataset_id=dataset_id, requested_by=principal.user_id)
    session.add(request)
    session.flush()
    record(
        session, "restore-request", "dataset", dataset_id,
        actor_id=principal.user_id, actor=principal.username or "anonymous", request=request.id,
    )  # fmt: skip
    return request


def restore_for_download(session: Session, principal: Principal, dataset_id: int) -> str:
    """Queue (and commit) the restore a download of archived data needs; a sentence
    naming it, for the download's 409."""
    request = request_restore(session, principal, dataset_id)
    session.commit()
    return (
        f"dataset {dataset_id} is archived, not on disk: restore request {request.id} "
        f"({request.status}) brings it back online; follow it at GET /api/restores/{request.id} "
        "and download again once it is done"
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Requests the caller may see: their own, and those of datasets they may see."""
    seen = select(Dataset.id).join(Investigation, Investigation.id == Dataset.investigation_id)
    clauses: list[ColumnElement[bool]] = [
        RestoreRequest.dataset_id.in_(seen.where(dataset_filter(principal)))
    ]
    if principal.user_id is not None:
        clauses.append(RestoreRequest.requested_by == principal.user_id)
    return or_(*clauses)


def get_restore(session: Session, principal: Principal, request_id: int) -> RestoreOut:
    """One request: its requester, whoever sees its dataset, managers; else 404."""
    request = session.scalars(
        select(RestoreRequest).where(RestoreRequest.id == request_id, _visible(principal))
    ).first()
    if request is None:
        raise NotFound(f"restore request {request_id} not found")
    return restore_out(request)


def list_restores(
    session: Session,
    principal: Principal,
    status: str | None,
    dataset: int | None,
    limit: int,
    cursor: str | None,
) -> Page[RestoreOut]:
    """Restore requests, newest first: managers all, others their own."""
    require_login(principal)
    query = select(RestoreRequest)
    if not principal.is_manager:
        query = query.where(RestoreRequest.requested_by == principal.user_id)
    if status is not None:
        if status not in RestoreStatus.__members__:
            known = ", ".join(RestoreStatus.__members__)
            raise InvalidInput(f"status {status!r} is not known; use one of {known}")
        query = query.where(RestoreRequest.status == status)
    if dataset is not None:
        query = query.where(RestoreRequest.dataset_id == dataset)
    rows, next_cursor = paginate(
        session, query, RestoreRequest, (("created", "id"), True), limit, cursor
    )
    return Page(items=[restore_out(r) for r in rows], next=next_cursor)


# Execution ------------------------------------------------------------------


def _worker_name() -> str:
    return f"running on {socket.gethostname()}:{os.getpid()}"


def _claim(session: Session) -> RestoreRequest | None:
    """The oldest queued request whose dataset's bundle is complete, now running here."""
    candidates = session.scalars(
        select(RestoreRequest)
        .where(RestoreRequest.status == RestoreStatus.queued)
        .order_by(RestoreRequest.created, RestoreRequest.id)
        .limit(20)
    ).all()
    for request in candidates:
        dataset = session.get(Dataset, request.dataset_id)
        bundle = current_bundle(session, request.dataset_id)
        ready = dataset is None or dataset.storage_state != StorageState.archived
        if not ready and (bundle is None or bundle.state != BundleState.complete):
            continue  # an archive step still in hand: wait for it to finish
        claimed = session.execute(
            update(RestoreRequest)
            .where(RestoreRequest.id == request.id, RestoreRequest.status == RestoreStatus.queued)
            .values(status=RestoreStatus.running, started=utcnow(), error=_worker_name())
        ).rowcount  # type: ignore[attr-defined]
        if claimed:
            if dataset is not None and dataset.storage_state == StorageState.archived:
                dataset.storage_state = StorageState.restoring
            session.commit()
            session.refresh(request)
            return request
        session.rollback()
    return None


def _finish(session: Session, request: RestoreRequest, status: str, error: str = "") -> None:
    request.status = status
    request.finished = utcnow()
    request.error = error
    session.commit()


def _extract(session: Session, settings: Settings, dataset: Dataset) -> tuple[int, int, str]:
    """Copy the dataset's files out of its bundle into their folder, each verified;
    (files, bytes, bundle path)."""
    bundle = current_bundle(session, dataset.id)
    if bundle is None:
        raise BundleError(f"dataset {dataset.id} has no archive bundle to restore from")
    path = bundle_file(settings, bundle)
    manifest = files.read_manifest(path)
    known = dict(
        session.execute(
            select(Datafile.path, Datafile.checksum).where(Datafile.dataset_id == dataset.id)
        ).all()
    )
    folder, algorithm = Path(manifest["folder"]), manifest["algorithm"]
    for entry in manifest["files"]:
        catalogue = known.get(entry["path"])
        if split_checksum(catalogue or "")[0] == algorithm and catalogue != entry["checksum"]:
            raise BundleError(f"{entry['path']}: the manifest and the catalogue disagree")
    with path.open("rb") as handle:
        for number, entry in enumerate(manifest["files"]):
            target = (folder / entry["path"]).resolve()
            if not target.is_relative_to(folder):
                raise BundleError(f"{entry['path']!r} would land outside {folder}")
            files.extract_file(handle, entry, target, algorithm)
            if number == 0:
                fault_point("restore:during-extract")
    for parent in {(folder / entry["path"]).parent for entry in manifest["files"]}:
        files.fsync_folder(parent)
    return len(manifest["files"]), sum(e["size"] for e in manifest["files"]), bundle.path


def run_restore(sessions: Sessions, settings: Settings, request_id: int) -> str:
    """Carry out one claimed (running) request; its final status."""
    with sessions() as session:
        request = session.get(RestoreRequest, request_id)
        if request is None:
            raise NotFound(f"restore request {request_id} not found")
        dataset = session.get(Dataset, request.dataset_id)
        if dataset is None or dataset.storage_state == StorageState.online:
            _finish(session, request, RestoreStatus.done)  # already online: nothing to do
            return RestoreStatus.done
        if dataset.storage_state == StorageState.deleted:
            _finish(session, request, RestoreStatus.failed, "the data was deleted by the policy")
            return RestoreStatus.failed
        try:
            count, size, bundle = _extract(session, settings, dataset)
        except (BundleError, OSError) as exc:
            session.rollback()
            dataset.storage_state = StorageState.archived
            _finish(session, request, RestoreStatus.failed, f"restore failed: {exc}")
            return RestoreStatus.failed
        session.execute(
            update(Datafile).where(Datafile.dataset_id == dataset.id).values(tier="online")
        )
        dataset.storage_state = StorageState.online
        record(
            session, "restore", "dataset", dataset.id, actor="policy", request=request.id,
            requested_by=request.requested_by, bundle=bundle, files=count, size=size,
        )  # fmt: skip
        _finish(session, request, RestoreStatus.done)
        return RestoreStatus.done


def run_queued_restores(sessions: Sessions, settings: Settings, limit: int | None = None) -> int:
    """Run queued restores one after another (claimed safely against other workers);
    how many ran."""
    ran = 0
    while limit is None or ran < limit:
        with sessions() as session:
            request = _claim(session)
            request_id = request.id if request is not None else None
        if request_id is None:
            return ran
        run_restore(sessions, settings, request_id)
        ran += 1
    return ran


def requeue_abandoned(sessions: Sessions) -> int:
    """Queue again the running restores whose process is gone (this host's dead
    processes at once, other hosts' after ABANDONED_AFTER); how many."""
    requeued = 0
    with sessions() as session:
        running = session.scalars(
            select(RestoreRequest).where(RestoreRequest.status == RestoreStatus.running)
        ).all()
        for request in running:
            if _still_running(request):
                continue
            request.status = RestoreStatus.queued
            request.error = ""
            dataset = session.get(Dataset, request.dataset_id)
            if dataset is not None and dataset.storage_state == StorageState.restoring:
                dataset.storage_state = StorageState.archived
            requeued += 1
        session.commit()
    return requeued


def _still_running(request: RestoreRequest) -> bool:
    host, _, pid = request.error.removeprefix("running on ").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        started = request.started or request.created
        return utcnow() - started < ABANDONED_AFTER
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
