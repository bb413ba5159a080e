"""DOIs of investigations and collections: minted, made findable, kept in sync.

The catalogue is written first and the registry called after: a DOI's row is added
(``synced`` false), the registry is asked, and only its answer sets ``synced``. A
registry that is down or refuses never blocks the creation of an investigation or
its release; ``sync_pending`` (run by every policy pass) retries what it missed.

These functions change the caller's session and leave the commit to it, except
``sync_pending`` and ``publish_ready_collections``, which commit per DOI.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fairbeam.audit.service import record
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.config import Settings
from fairbeam.db.base import as_utc, utcnow
from fairbeam.policy import datacite
from fairbeam.policy.models import Doi, DoiCollection, DoiCollectionDataset, DoiState
from fairbeam.policy.registry import (
    DataCiteRegistry,
    LocalRegistry,
    RegistryError,
    registry_for,
)

log = logging.getLogger("fairbeam.policy")
ACTOR = "policy"


def _moment(as_of: date | datetime | None) -> datetime:
    """The instant a day stands for: its end (a release dated that day is due)."""
    if as_of is None:
        return utcnow()
    if isinstance(as_of, datetime):
        return as_utc(as_of)
    return datetime.combine(as_of, time(0), UTC) + timedelta(days=1) - timedelta(microseconds=1)


def _push(
    session: Session,
    settings: Settings,
    row: Doi,
    *,
    create: bool,
    registry: DataCiteRegistry | LocalRegistry | None = None,
) -> bool:
    """Send a DOI's row to the registry; on success mark it synced. Never raises for
    a registry failure: the error is kept on the row for the next pass."""
    own = registry is None
    client = registry or registry_for(settings)
    state = DoiState(row.state)
    try:
        if create:
            client.create(row.doi, row.attributes, state)
        else:
            client.update(row.doi, row.attributes, state)
    except RegistryError as exc:
        row.synced = False
        row.sync_error = exc.detail
        log.warning("DOI %s not sent to the registry: %s", row.doi, exc.detail)
        return False
    finally:
        if own and isinstance(client, DataCiteRegistry):
            client.close()
    row.synced = True
    row.sync_error = ""
    row.updated = utcnow()
    session.flush()
    return True


def _audit(session: Session, action: str, row: Doi, actor: str, actor_id: int | None) -> None:
    record(
        session,
        action,
        "doi",
        row.doi,
        actor_id=actor_id,
        actor=actor,
        state=row.state,
        investigation=row.investigation_id,
        collection=row.collection_id,
        url=row.url,
    )


def _mint(session: Session, settings: Settings, row: Doi, actor: str, actor_id: int | None) -> Doi:
    """A new DOI: its row first (audited, not synced), then the registry."""
    session.add(row)
    session.flush()
    action = "doi.publish" if row.state == DoiState.findable else "doi.register"
    _audit(session, action, row, actor, actor_id)
    _push(session, settings, row, create=True)
    return row


def doi_row(session: Session, doi: str) -> Doi | None:
    """The catalogue's row of a DOI (any case, with or without a resolver prefix)."""
    return session.scalar(select(Doi).where(Doi.doi == datacite.canonical_doi(doi)))


# Investigations ------------------------------------------------------------


def _investigation_row(session: Session, investigation: Investigation) -> Doi | None:
    return session.scalar(select(Doi).where(Doi.investigation_id == investigation.id))


def _manages(settings: Settings, doi: str) -> bool:
    return doi.upper().startswith(f"{settings.doi_prefix}/")


def ensure_investigation_doi(
    session: Session,
    settings: Settings,
    investigation: Investigation,
    *,
    actor: str = ACTOR,
    actor_id: int | None = None,
) -> Doi | None:
    """The investigation's DOI, minted if it has none: registered (it resolves to the
    landing page), findable only once the investigation is released.

    None for an investigation created with a DOI under another prefix: that DOI is
    someone else's to manage.
    """
    existing = _investigation_row(session, investigation)
    if existing is not None:
        return existing
    if investigation.doi and not _manages(settings, investigation.doi):
        return None
    doi = datacite.canonical_doi(
        investigation.doi or datacite.investigation_doi(settings, investigation)
    )
    taken = session.scalar(select(Doi).where(Doi.doi == doi))
    if taken is not None:  # two codes that read the same once made DOI-safe
        doi = f"{doi}-{investigation.id}"
    state = DoiState.findable if investigation.released is not None else DoiState.registered
    row = Doi(
        doi=doi,
        investigation_id=investigation.id,
        state=state,
        url=datacite.landing_url(settings, doi),
        attributes=datacite.investigation_attributes(session, settings, investigation, doi),
        synced=False,
    )
    investigation.doi = doi
    return _mint(session, settings, row, actor, actor_id)


def make_findable(
    session: Session,
    settings: Settings,
    investigation: Investigation,
    *,
    actor: str = ACTOR,
    actor_id: int | None = None,
) -> Doi | None:
    """At release: the investigation's DOI becomes findable, its metadata refreshed
    (publication year and availability are the release's). None for a DOI under
    another prefix."""
    row = ensure_investigation_doi(session, settings, investigation, actor=actor, actor_id=actor_id)
    if row is None:
        return None
    attributes = datacite.investigation_attributes(session, settings, investigation, row.doi)
    if row.state == DoiState.findable and row.attributes == attributes:
        return row
    became_findable = row.state != DoiState.findable
    row.state = DoiState.findable
    row.attributes = attributes
    row.synced = False
    row.updated = utcnow()
    session.flush()
    if became_findable:
        _audit(session, "doi.publish", row, actor, actor_id)
    _push(session, settings, row, create=False)
    return row


def refresh_metadata(session: Session, settings: Settings, row: Doi) -> bool:
    """Rebuild a DOI's attributes from the catalogue and send them when they changed.
    True when the registry has them (or nothing changed)."""
    attributes: dict[str, Any]
    if row.investigation_id is not None:
        investigation = session.get(Investigation, row.investigation_id)
        if investigation is None:
            return True
        attributes = datacite.investigation_attributes(session, settings, investigation, row.doi)
    elif row.collection_id is not None:
        collection = session.get(DoiCollection, row.collection_id)
        if collection is None:
            return True
        attributes = datacite.collection_attributes(session, settings, collection, row.doi)
    else:
        return True
    if attributes == row.attributes and row.synced:
        return True
    row.attributes = attributes
    row.synced = False
    session.flush()
    return _push(session, settings, row, create=False)


def sync_pending(session: Session, settings: Settings, limit: int | None = None) -> int:
    """Send every DOI the registry has not confirmed (after an outage or a refusal),
    committing each; the number now in sync."""
    query = select(Doi.id).where(Doi.synced.is_(False)).order_by(Doi.id)
    if limit is not None:
        query = query.limit(limit)
    ids = list(session.scalars(query))
    if not ids:
        return 0
    done = 0
    registry = registry_for(settings)
    try:
        for doi_id in ids:
            row = session.get(Doi, doi_id)
            if row is None or row.synced:
                continue
            if _push(session, settings, row, create=True, registry=registry):
                done += 1
                record(session, "doi.sync", "doi", row.doi, actor=ACTOR, state=row.state)
            session.commit()
    finally:
        if isinstance(registry, DataCiteRegistry):
            registry.close()
    return done


def investigations_without_doi(session: Session, limit: int | None = None) -> list[int]:
    """Ids of investigations that have no DOI of the facility's yet (the pass mints them)."""
    query = (
        select(Investigation.id)
        .where(~exists().where(Doi.investigation_id == Investigation.id))
        .where(Investigation.doi.is_(None))
        .order_by(Investigation.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# Collections ---------------------------------------------------------------


def collection_is_open(
    session: Session, collection_id: int, as_of: date | datetime | None = None
) -> bool:
    """True when every dataset of the collection is open (its investigation released)."""
    moment = _moment(as_of)
    closed = session.scalar(
        select(DoiCollectionDataset.dataset_id)
        .join(Dataset, Dataset.id == DoiCollectionDataset.dataset_id)
        .join(Investigation, Investigation.id == Dataset.investigation_id)
        .where(DoiCollectionDataset.collection_id == collection_id)
        .where((Investigation.release_date.is_(None)) | (Investigation.release_date > moment))
        .limit(1)
    )
    return closed is None


def mint_collection_doi(
    session: Session,
    settings: Settings,
    collection: DoiCollection,
    *,
    actor: str = ACTOR,
    actor_id: int | None = None,
) -> Doi:
    """An approved collection's DOI: findable when all its datasets are open, else
    registered until they are."""
    existing = session.scalar(select(Doi).where(Doi.collection_id == collection.id))
    if existing is not None:
        return existing
    doi = datacite.collection_doi(settings, collection)
    state = DoiState.findable if collection_is_open(session, collection.id) else DoiState.registered
    row = Doi(
        doi=doi,
        collection_id=collection.id,
        state=state,
        url=datacite.landing_url(settings, doi),
        attributes=datacite.collection_attributes(session, settings, collection, doi),
        synced=False,
    )
    return _mint(session, settings, row, actor, actor_id)


def publish_ready_collections(
    session: Session, settings: Settings, as_of: date | datetime | None = None
) -> int:
    """Make findable the registered collection DOIs whose datasets are all open by
    ``as_of``; commits each, returns how many."""
    ids = list(
        session.scalars(
            select(Doi.id)
            .where(Doi.collection_id.is_not(None), Doi.state == DoiState.registered)
            .order_by(Doi.id)
        )
    )
    published = 0
    for doi_id in ids:
        row = session.get(Doi, doi_id)
        if row is None or row.collection_id is None:
            continue
        if not collection_is_open(session, row.collection_id, as_of):
            continue
        collection = session.get(DoiCollection, row.collection_id)
        if collection is None:
            continue
        row.state = DoiState.findable
        row.attributes = datacite.collection_attributes(session, settings, collection, row.doi)
        row.synced = False
        row.updated = utcnow()
        session.flush()
        _audit(session, "doi.publish", row, ACTOR, None)
        _push(session, settings, row, create=False)
        session.commit()
        published += 1
    return published
