"""The public face of a DOI, as data: what `GET /api/dois/{doi}` answers, what the landing
page shows (fairbeam.policy.landing_page renders it) and its schema.org `Dataset`
JSON-LD.

Both show the metadata at once; datasets and downloads only once the data is open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.catalogue.service import get_investigation, paginate
from fairbeam.config import Settings
from fairbeam.db.base import as_utc, utcnow
from fairbeam.errors import NotFound
from fairbeam.policy import datacite
from fairbeam.policy.doi import collection_is_open, doi_row
from fairbeam.policy.models import Doi, DoiCollection, DoiCollectionDataset

PAGE_DATASETS = 20
DATASET_SORT = (("start", "id"), False)


class CreatorOut(BaseModel):
    name: str
    given_name: str | None
    family_name: str | None
    orcid: str | None = Field(description="The ORCID iD as a URL, when known.")
    kind: str = Field(description="Personal or Organizational.")


class DoiDatasetOut(BaseModel):
    id: int
    name: str
    technique: str
    start: datetime
    file_count: int
    volume_bytes: int


class DoiOut(BaseModel):
    doi: str
    resolver: str = Field(description="https://doi.org/ followed by the DOI.")
    url: str = Field(description="The landing page the DOI resolves to.")
    state: str = Field(description="registered (resolves) or findable (also indexed).")
    kind: str = Field(description="investigation or collection.")
    title: str
    description: str
    creators: list[CreatorOut]
    publisher: str
    publication_year: int
    open: bool = Field(description="True once every dataset it names is open.")
    release_date: datetime | None = Field(description="When the data opens (or opened).")
    instrument: str | None
    investigation: int | None
    code: str | None = Field(description="The investigation's proposal code.")
    collection: int | None
    techniques: list[str]
    collected: str | None = Field(description="Start/end of the measurements (ISO 8601).")
    dataset_count: int
    file_count: int
    volume_bytes: int
    formats: list[str]
    related: list[str] = Field(description="DOIs it references or is referenced by.")
    citation: str
    attributes: dict[str, Any] = Field(description="The DataCite 4.5 attributes.")


class Landing(BaseModel):
    """What the page shows: the public JSON plus a page of datasets when open."""

    info: DoiOut
    datasets: list[DoiDatasetOut]
    next: str | None


def _creator(entry: dict[str, Any]) -> CreatorOut:
    orcid = next(
        (
            i["nameIdentifier"]
            for i in entry.get("nameIdentifiers", [])
            if i.get("nameIdentifierScheme") == "ORCID"
        ),
        None,
    )
    return CreatorOut(
        name=entry["name"],
        given_name=entry.get("givenName"),
        family_name=entry.get("familyName"),
        orcid=orcid,
        kind=entry.get("nameType", "Personal"),
    )


def _description(attributes: dict[str, Any]) -> str:
    return next(
        (
            d["description"]
            for d in attributes.get("descriptions", [])
            if d["descriptionType"] == "Abstract"
        ),
        "",
    )


def _date(attributes: dict[str, Any], kind: str) -> str | None:
    return next((d["date"] for d in attributes.get("dates", []) if d["dateType"] == kind), None)


def doi_info(session: Session, settings: Settings, row: Doi) -> DoiOut:
    """The public metadata of a DOI, built afresh from the catalogue."""
    investigation: Investigation | None = None
    if row.investigation_id is not None:
        investigation = get_investigation(session, row.investigation_id)
        attributes = datacite.investigation_attributes(session, settings, investigation, row.doi)
        release: datetime | None = datacite.expected_release(settings, investigation)
        is_open = (
            investigation.release_date is not None
            and as_utc(investigation.release_date) <= utcnow()
        )
        counts = (
            investigation.dataset_count,
            investigation.file_count,
            investigation.volume_bytes,
        )
    elif row.collection_id is not None:
        collection = session.get(DoiCollection, row.collection_id)
        if collection is None:
            raise NotFound(f"DOI {row.doi} not found")
        attributes = datacite.collection_attributes(session, settings, collection, row.doi)
        release = datacite.collection_release(
            settings, datacite.collection_investigations(session, collection.id)
        )
        is_open = collection_is_open(session, collection.id)
        totals = datacite.collection_totals(session, collection.id)
        counts = (totals["datasets"], totals["files"], totals["bytes"])
    else:
        raise NotFound(f"DOI {row.doi} not found")
    return DoiOut(
        doi=row.doi,
        resolver=f"https://doi.org/{row.doi}",
        url=row.url or datacite.landing_url(settings, row.doi),
        state=row.state,
        kind="investigation" if investigation is not None else "collection",
        title=attributes["titles"][0]["title"],
        description=_description(attributes),
        creators=[_creator(c) for c in attributes["creators"]],
        publisher=attributes["publisher"]["name"],
        publication_year=attributes["publicationYear"],
        open=is_open,
        release_date=release,
        instrument=investigation.instrument.name if investigation else None,
        investigation=investigation.id if investigation else None,
        code=investigation.code if investigation else None,
        collection=row.collection_id,
        techniques=[s["subject"] for s in attributes.get("subjects", [])],
        collected=_date(attributes, "Collected"),
        dataset_count=counts[0],
        file_count=counts[1],
        volume_bytes=counts[2],
        formats=list(attributes.get("formats", [])),
        related=[r["relatedIdentifier"] for r in attributes.get("relatedIdentifiers", [])],
        citation=datacite.citation(attributes),
        attributes=attributes,
    )


def get_doi(session: Session, settings: Settings, doi: str) -> DoiOut:
    """A DOI's public metadata; 404 for a DOI the facility did not mint."""
    row = doi_row(session, doi)
    if row is None:
        raise NotFound(f"DOI {doi} not found")
    return doi_info(session, settings, row)


def landing(
    session: Session, settings: Settings, doi: str, limit: int, cursor: str | None
) -> Landing:
    """The landing page's content: metadata, and a page of datasets once open."""
    info = get_doi(session, settings, doi)
    if not info.open:
        return Landing(info=info, datasets=[], next=None)
    query = select(Dataset)
    if info.investigation is not None:
        query = query.where(Dataset.investigation_id == info.investigation)
    else:
        query = query.join(
            DoiCollectionDataset, DoiCollectionDataset.dataset_id == Dataset.id
        ).where(DoiCollectionDataset.collection_id == info.collection)
    rows, next_cursor = paginate(session, query, Dataset, DATASET_SORT, limit, cursor)
    return Landing(
        info=info,
        datasets=[
            DoiDatasetOut(
                id=d.id,
                name=d.name,
                technique=d.technique,
                start=d.start,
                file_count=d.file_count,
                volume_bytes=d.volume_bytes,
            )
            for d in rows
        ],
        next=next_cursor,
    )


# schema.org ----------------------------------------------------------------


def search_description(info: DoiOut, settings: Settings) -> str:
    """Search engines want 50 to 5000 characters."""
    text = info.description.strip()
    facts = (
        f"{info.title}: data measured"
        + (f" on {info.instrument}" if info.instrument else "")
        + f" at the {settings.facility_name}"
        + (f" (proposal {info.code})" if info.code else "")
        + "."
    )
    if len(text) < 50:
        text = f"{text} {facts}".strip()
    return text[:5000]


def json_ld(info: DoiOut, settings: Settings) -> dict[str, Any]:
    """The schema.org `Dataset` a search engine reads from the landing page."""
    public = settings.public_url.rstrip("/")
    creators: list[dict[str, Any]] = []
    for c in info.creators:
        if c.kind == "Organizational":
            creators.append({"@type": "Organization", "name": c.name})
            continue
        creator: dict[str, Any] = {"@type": "Person", "name": c.name}
        if c.given_name:
            creator["givenName"] = c.given_name
        if c.family_name:
            creator["familyName"] = c.family_name
        if c.orcid:
            creator["sameAs"] = c.orcid
            creator["identifier"] = c.orcid
        creators.append(creator)
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": info.resolver,
        "name": info.title,
        "description": search_description(info, settings),
        "url": info.url,
        "sameAs": info.resolver,
        "identifier": [
            info.resolver,
            {
                "@type": "PropertyValue",
                "propertyID": "DOI",
                "value": info.doi,
                "url": info.resolver,
            },
        ],
        "creator": creators,
        "publisher": {"@type": "Organization", "name": info.publisher, "url": public},
        "provider": {"@type": "Organization", "name": info.publisher, "url": public},
        "keywords": info.techniques,
        "measurementTechnique": info.techniques,
        "isAccessibleForFree": info.open,
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "name": f"{settings.facility} data catalogue",
            "url": public,
        },
        "citation": info.citation,
    }
    available = _date(info.attributes, "Available")
    if available:
        data["datePublished"] = available
    if info.collected:
        data["temporalCoverage"] = info.collected
    if info.code:
        data["alternateName"] = info.code
    if info.related:
        relation = "isPartOf" if info.kind == "investigation" else "isBasedOn"
        data[relation] = [f"https://doi.org/{d}" for d in info.related]
    if info.open:
        page = (
            f"{public}/investigations/{info.investigation}"
            if info.investigation is not None
            else info.url
        )
        data["distribution"] = [
            {"@type": "DataDownload", "encodingFormat": fmt, "contentUrl": page}
            for fmt in info.formats or ["application/octet-stream"]
        ]
        data["conditionsOfAccess"] = (
            "Open data; downloading needs a registered identity at the facility."
            if settings.open_data_needs_login
            else "Open data."
        )
    else:
        when = info.release_date.date().isoformat() if info.release_date else "a later date"
        data["conditionsOfAccess"] = (
            f"Under embargo: the data opens on {when}; its description is public."
        )
    return data


__all__ = ["DoiOut", "Landing", "doi_info", "get_doi", "json_ld", "landing", "search_description"]
