"""DOIs on collections: a user names datasets across investigations, a data manager
approves or refuses, and an approved collection gets its DOI (findable when all its
datasets are open, registered until they are)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.access.policy import Principal, dataset_filter, require_login, require_manager
from fairbeam.audit.service import record
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.catalogue.schemas import Page, RowId, Strict
from fairbeam.catalogue.service import paginate
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import Conflict, InvalidInput, NotFound
from fairbeam.policy.doi import mint_collection_doi
from fairbeam.policy.models import (
    Doi,
    DoiCollection,
    DoiCollectionDataset,
    RequestStatus,
    StorageState,
)

MAX_DATASETS = 10_000
CHUNK = 1000  # ids per IN list: within both engines' limits on bound parameters
SORT = (("created", "id"), True)


class DoiRequestIn(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    description: str = Field(default="", max_length=20_000)
    datasets: list[RowId] = Field(
        min_length=1,
        max_length=MAX_DATASETS,
        description=f"Ids of the datasets, each once (at most {MAX_DATASETS:,}).",
    )


class DoiRequestOut(BaseModel):
    id: int
    title: str
    description: str
    requested_by: str | None
    status: str
    created: datetime
    decided: datetime | None
    decided_by: str | None
    note: str
    dataset_count: int
    doi: str | None = Field(description="The DOI minted on approval.")
    doi_state: str | None = Field(description="registered, or findable once all data is open.")


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(sorted(ids))))
    return {user_id: username for user_id, username in rows}


def requests_out(session: Session, rows: list[DoiCollection]) -> list[DoiRequestOut]:
    """The API view of requests, with their names, counts and DOIs in three queries."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    names = _usernames(
        session, {u for r in rows for u in (r.requested_by, r.decided_by) if u is not None}
    )
    counts = dict(
        session.execute(
            select(DoiCollectionDataset.collection_id, func.count())
            .where(DoiCollectionDataset.collection_id.in_(ids))
            .group_by(DoiCollectionDataset.collection_id)
        ).all()
    )
    dois = {
        d.collection_id: d for d in session.scalars(select(Doi).where(Doi.collection_id.in_(ids)))
    }
    return [
        DoiRequestOut(
            id=r.id,
            title=r.title,
            description=r.description,
            requested_by=names.get(r.requested_by) if r.requested_by else None,
            status=r.status,
            created=r.created,
            decided=r.decided,
            decided_by=names.get(r.decided_by) if r.decided_by else None,
            note=r.decision_note,
            dataset_count=int(counts.get(r.id, 0)),
            doi=dois[r.id].doi if r.id in dois else None,
            doi_state=dois[r.id].state if r.id in dois else None,
        )
        for r in rows
    ]


def _check_datasets(session: Session, principal: Principal, ids: list[int]) -> None:
    """Every dataset exists and the caller may see it (else 404 naming none); none
    is listed twice; none has had its data deleted."""
    twice = sorted(i for i, n in Counter(ids).items() if n > 1)
    if twice:
        listed = ", ".join(map(str, twice[:10])) + (" ..." if len(twice) > 10 else "")
        raise InvalidInput(f"datasets are listed more than once: {listed}")
    visible = 0
    deleted: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = session.execute(
            select(Dataset.id, Dataset.storage_state)
            .join(Investigation, Investigation.id == Dataset.investigation_id)
            .where(Dataset.id.in_(chunk), dataset_filter(principal))
        ).all()
        visible += len(rows)
        deleted.extend(i for i, state in rows if state == StorageState.deleted)
    if visible != len(ids):
        raise NotFound(
            "some of these datasets were not found: a collection may only name datasets you can see"
        )
    if deleted:
        raise InvalidInput(
            f"the data of datasets {', '.join(map(str, sorted(deleted)[:10]))} was deleted "
            "by the data policy: leave them out of the collection"
        )


def create_request(session: Session, principal: Principal, data: DoiRequestIn) -> DoiCollection:
    """A user's request for a DOI on datasets they can see (pending a manager)."""
    require_login(principal)
    _check_datasets(session, principal, data.datasets)
    collection = DoiCollection(
        title=data.title,
        description=data.description.strip(),
        requested_by=principal.user_id,
        status=RequestStatus.pending,
    )
    session.add(collection)
    session.flush()
    session.execute(
        insert(DoiCollectionDataset),
        [{"collection_id": collection.id, "dataset_id": i} for i in data.datasets],
    )
    record(
        session,
        "doi.request",
        "doi_collection",
        collection.id,
        actor_id=principal.user_id,
        actor=principal.username or "system",
        title=data.title,
        datasets=len(data.datasets),
    )
    return collection


def get_request(session: Session, principal: Principal, request_id: int) -> DoiCollection:
    """One request: its requester and managers see it, others get 404."""
    require_login(principal)
    row = session.get(DoiCollection, request_id)
    if row is None or not (principal.is_manager or row.requested_by == principal.user_id):
        raise NotFound(f"DOI request {request_id} not found")
    return row


def list_requests(
    session: Session,
    principal: Principal,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DoiRequestOut]:
    """Requests, newest first: managers see all, others their own."""
    require_login(principal)
    query = select(DoiCollection)
    if not principal.is_manager:
        if principal.user_id is None:
            return Page(items=[])
        query = query.where(DoiCollection.requested_by == principal.user_id)
    if status is not None:
        if status not in RequestStatus.__members__:
            raise InvalidInput(
                f"status {status!r} is not known; use one of {', '.join(RequestStatus)}"
            )
        query = query.where(DoiCollection.status == status)
    rows, next_cursor = paginate(session, query, DoiCollection, SORT, limit, cursor)
    return Page(items=requests_out(session, rows), next=next_cursor)


def decide(
    session: Session,
    settings: Settings,
    principal: Principal,
    request_id: int,
    approve: bool,
    note: str,
) -> DoiCollection:
    """A manager approves (the DOI is minted) or refuses a pending request."""
    require_manager(principal)
    row = session.get(DoiCollection, request_id, with_for_update=True)
    if row is None:
        raise NotFound(f"DOI request {request_id} not found")
    if row.status != RequestStatus.pending:
        raise Conflict(f"DOI request {request_id} was already {row.status}")
    row.status = RequestStatus.approved if approve else RequestStatus.refused
    row.decided_by = principal.user_id
    row.decided = utcnow()
    row.decision_note = note.strip()
    session.flush()
    actor = principal.username or "system"
    record(
        session,
        "doi.request.approve" if approve else "doi.request.refuse",
        "doi_collection",
        row.id,
        actor_id=principal.user_id,
        actor=actor,
        note=row.decision_note,
    )
    if approve:
        mint_collection_doi(session, settings, row, actor=actor, actor_id=principal.user_id)
    return row
