"""DataCite Metadata Schema 4.5 attributes (the JSON of DataCite's REST API) built
from the catalogue, for an investigation's DOI and for a collection's.

The DOI names are readable and stable: ``{prefix}/{FACILITY}-{code}`` for an
investigation (``-{visit}`` appended when it has one), ``{prefix}/{FACILITY}-DC-{id}``
for a collection of datasets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from fairbeam.access.models import User
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetSummary,
    Investigation,
    Participant,
    ParticipantRole,
)
from fairbeam.config import Settings
from fairbeam.db.base import as_utc, utcnow
from fairbeam.ingest.techniques import DEFINITION_TECHNIQUES
from fairbeam.policy.models import Doi, DoiCollection, DoiCollectionDataset

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
PANET_URI = "http://purl.org/pan-science/PaNET/"
PANET_NAMES = frozenset(DEFINITION_TECHNIQUES.values())
# Creators in this order; local contacts are contributors (they collected the data).
CREATOR_ROLES = (
    ParticipantRole.principal_investigator,
    ParticipantRole.co_investigator,
    ParticipantRole.collaborator,
)
# File name endings and the media types DataCite's `formats` gets for them.
FORMATS = {
    ".h5": "application/x-hdf5",
    ".hdf5": "application/x-hdf5",
    ".hdf": "application/x-hdf5",
    ".nxs": "application/x-hdf5",
    ".nx5": "application/x-hdf5",
    ".cbf": "image/x-cbf",
    ".edf": "image/x-edf",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".dat": "text/plain",
    ".xml": "application/xml",
    ".zip": "application/zip",
}
# Files looked at to find a DOI's formats: enough to name them, bounded at any size.
FORMAT_SAMPLE_DATASETS = 20
FORMAT_SAMPLE_FILES = 2000
_UNSAFE = re.compile(r"[^A-Z0-9._\-]+")


# DOI names ---------------------------------------------------------------


def _suffix_part(text: str) -> str:
    return _UNSAFE.sub("-", text.strip().upper()).strip("-") or "X"


def investigation_doi(settings: Settings, investigation: Investigation) -> str:
    """The DOI an investigation gets: ``{prefix}/{FACILITY}-{code}[-{visit}]``."""
    suffix = f"{_suffix_part(settings.facility)}-{_suffix_part(investigation.code)}"
    if investigation.visit:
        suffix += f"-{_suffix_part(investigation.visit)}"
    return f"{settings.doi_prefix}/{suffix}"


def collection_doi(settings: Settings, collection: DoiCollection) -> str:
    """The DOI a collection of datasets gets: ``{prefix}/{FACILITY}-DC-{id}``."""
    return f"{settings.doi_prefix}/{_suffix_part(settings.facility)}-DC-{collection.id}"


def canonical_doi(doi: str) -> str:
    """A DOI as the catalogue stores it (DOIs are case-insensitive; ours are upper case),
    with a resolver prefix (``https://doi.org/``, ``doi:``) taken off."""
    text = doi.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return text.upper()


def landing_url(settings: Settings, doi: str) -> str:
    """Where the DOI resolves: the landing page under the facility's public address."""
    return f"{settings.public_url.rstrip('/')}/doi/{doi}"


# Building blocks -----------------------------------------------------------


def split_name(full_name: str) -> tuple[str | None, str | None]:
    """(given, family) of a person's name: "Family, Given" or "Given Family"; None
    for a part that is not known (a single word)."""
    text = " ".join(full_name.split())
    if "," in text:
        family, _, given = text.partition(",")
        return (given.strip() or None, family.strip() or None)
    if " " in text:
        given, _, family = text.rpartition(" ")
        return given, family
    return None, None


def person(user: User) -> dict[str, Any]:
    """A creator or contributor entry for a user: Personal, with the ORCID iD if known."""
    given, family = split_name(user.full_name or "")
    entry: dict[str, Any] = {"nameType": "Personal"}
    if given and family:
        entry.update(name=f"{family}, {given}", givenName=given, familyName=family)
    else:
        entry["name"] = (user.full_name or "").strip() or user.username
    if user.orcid:
        entry["nameIdentifiers"] = [
            {
                "nameIdentifier": f"https://orcid.org/{user.orcid}",
                "nameIdentifierScheme": "ORCID",
                "schemeUri": "https://orcid.org",
            }
        ]
    else:
        entry["nameIdentifiers"] = []
    entry["affiliation"] = []
    return entry


def facility_organisation(settings: Settings) -> dict[str, Any]:
    """The facility as an organisation (a creator when no person is known)."""
    return {
        "name": settings.facility_name,
        "nameType": "Organizational",
        "nameIdentifiers": [],
        "affiliation": [],
    }


def publisher(settings: Settings) -> dict[str, str]:
    """DataCite 4.5's publisher object: the facility."""
    return {"name": settings.facility_name}


def subject(technique: str) -> dict[str, str]:
    """A technique as a subject; named after PaNET when it is one of its terms."""
    if technique in PANET_NAMES:
        return {"subject": technique, "subjectScheme": "PaNET", "schemeUri": PANET_URI}
    return {"subject": technique}


def day(moment: datetime) -> str:
    """A date as DataCite writes it (YYYY-MM-DD)."""
    return as_utc(moment).date().isoformat()


def expected_release(settings: Settings, investigation: Investigation) -> datetime:
    """When an investigation's data opens: its release date, else its end (or start)
    plus the embargo."""
    if investigation.release_date is not None:
        return as_utc(investigation.release_date)
    end = as_utc(investigation.end or investigation.start)
    try:
        return end.replace(year=end.year + settings.embargo_years)
    except ValueError:  # 29 February
        return end + timedelta(days=365 * settings.embargo_years)


def sizes(volume_bytes: int, file_count: int, dataset_count: int) -> list[str]:
    """DataCite's free-text sizes: bytes, files and datasets."""
    return [f"{volume_bytes} bytes", f"{file_count} files", f"{dataset_count} datasets"]


def formats_of(paths: Iterable[str]) -> list[str]:
    """The media types of files, by their name endings, in a stable order."""
    found: set[str] = set()
    for path in paths:
        name = path.rsplit("/", 1)[-1].lower()
        dot = name.rfind(".")
        if dot > 0 and name[dot:] in FORMATS:
            found.add(FORMATS[name[dot:]])
    return sorted(found)


def _sample_formats(session: Session, dataset_ids: Select[Any]) -> list[str]:
    """Formats of the files of the first datasets ``dataset_ids`` selects."""
    first = list(session.scalars(dataset_ids.limit(FORMAT_SAMPLE_DATASETS)))
    if not first:
        return []
    paths = session.scalars(
        select(Datafile.path).where(Datafile.dataset_id.in_(first)).limit(FORMAT_SAMPLE_FILES)
    )
    return formats_of(paths)


def _descriptions(abstract: str, note: str, note_type: str) -> list[dict[str, str]]:
    """The abstract (when there is one) and a note of another description type."""
    text = abstract.strip()
    found = [{"description": text, "descriptionType": "Abstract"}] if text else []
    return [*found, {"description": note, "descriptionType": note_type}]


def _creators(participants: Iterable[Participant]) -> list[dict[str, Any]]:
    order = {role: index for index, role in enumerate(CREATOR_ROLES)}
    ranked = sorted(
        (p for p in participants if p.role in order),
        key=lambda p: (order[p.role], p.user_id),
    )
    return [person(p.user) for p in ranked]


def _contributors(settings: Settings, participants: Iterable[Participant]) -> list[dict[str, Any]]:
    collectors = [
        {**person(p.user), "contributorType": "DataCollector"}
        for p in sorted(participants, key=lambda p: p.user_id)
        if p.role == ParticipantRole.local_contact
    ]
    return [
        *collectors,
        {**facility_organisation(settings), "contributorType": "HostingInstitution"},
    ]


def rights(is_open: bool) -> list[dict[str, str]]:
    """Access rights in the OpenAIRE vocabulary harvesters read: embargoed, then open."""
    if is_open:
        return [{"rights": "Open access", "rightsUri": "info:eu-repo/semantics/openAccess"}]
    return [{"rights": "Embargoed access", "rightsUri": "info:eu-repo/semantics/embargoedAccess"}]


def _doi_reference(doi: str, relation: str) -> dict[str, str]:
    return {
        "relatedIdentifier": doi,
        "relatedIdentifierType": "DOI",
        "relationType": relation,
        "resourceTypeGeneral": "Dataset",
    }


def _base(settings: Settings, doi: str, title: str, year: int) -> dict[str, Any]:
    return {
        "doi": doi,
        "prefix": doi.split("/", 1)[0],
        "suffix": doi.split("/", 1)[1],
        "url": landing_url(settings, doi),
        "titles": [{"title": title}],
        "publisher": publisher(settings),
        "publicationYear": year,
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Experimental data"},
        "language": "en",
        "schemaVersion": SCHEMA_VERSION,
    }


# Investigations -------------------------------------------------------------


def investigation_techniques(session: Session, investigation: Investigation) -> list[str]:
    """The techniques of an investigation's datasets (from the summary table), else the
    techniques its beamline offers."""
    found = session.scalars(
        select(DatasetSummary.technique)
        .where(
            DatasetSummary.investigation_id == investigation.id,
            DatasetSummary.technique != "",
        )
        .distinct()
    )
    techniques = sorted(set(found))
    return techniques or sorted(investigation.instrument.techniques or [])


def investigation_attributes(
    session: Session, settings: Settings, investigation: Investigation, doi: str
) -> dict[str, Any]:
    """The DataCite attributes of an investigation's DOI."""
    release = expected_release(settings, investigation)
    participants = list(investigation.participants)
    creators = _creators(participants) or [facility_organisation(settings)]
    attributes = _base(settings, doi, investigation.title, release.year)
    collected = day(investigation.start)
    if investigation.end is not None:
        collected += f"/{day(investigation.end)}"
    instrument = investigation.instrument
    descriptions = _descriptions(
        investigation.abstract,
        f"Measured on {instrument.name} ({instrument.full_name or instrument.name}) "
        f"at the {settings.facility_name}.",
        "TechnicalInfo",
    )
    dataset_ids = (
        select(Dataset.id).where(Dataset.investigation_id == investigation.id).order_by(Dataset.id)
    )
    collections = session.scalars(
        select(Doi.doi)
        .where(
            Doi.collection_id.in_(
                select(DoiCollectionDataset.collection_id)
                .join(Dataset, Dataset.id == DoiCollectionDataset.dataset_id)
                .where(Dataset.investigation_id == investigation.id)
            )
        )
        .order_by(Doi.doi)
    )
    attributes.update(
        creators=creators,
        contributors=_contributors(settings, participants),
        subjects=[subject(t) for t in investigation_techniques(session, investigation)],
        dates=[
            {"date": collected, "dateType": "Collected"},
            {"date": day(release), "dateType": "Available"},
        ],
        alternateIdentifiers=[
            {"alternateIdentifier": investigation.code, "alternateIdentifierType": "Proposal"}
        ],
        sizes=sizes(
            investigation.volume_bytes, investigation.file_count, investigation.dataset_count
        ),
        formats=_sample_formats(session, dataset_ids),
        descriptions=descriptions,
        relatedIdentifiers=[_doi_reference(d, "IsReferencedBy") for d in collections],
        rightsList=rights(release <= utcnow()),
    )
    return attributes


# Collections ----------------------------------------------------------------


def collection_investigations(session: Session, collection_id: int) -> list[Investigation]:
    """The investigations a collection's datasets belong to, by start."""
    return list(
        session.scalars(
            select(Investigation)
            .options(selectinload(Investigation.participants).joinedload(Participant.user))
            .where(
                Investigation.id.in_(
                    select(Dataset.investigation_id)
                    .join(DoiCollectionDataset, DoiCollectionDataset.dataset_id == Dataset.id)
                    .where(DoiCollectionDataset.collection_id == collection_id)
                )
            )
            .order_by(Investigation.start, Investigation.id)
        )
    )


def collection_totals(session: Session, collection_id: int) -> dict[str, Any]:
    """Counts, sizes and the span of a collection's datasets, in one query."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Dataset.file_count), 0),
            func.coalesce(func.sum(Dataset.volume_bytes), 0),
            func.min(Dataset.start),
            func.max(func.coalesce(Dataset.end, Dataset.start)),
        )
        .select_from(DoiCollectionDataset)
        .join(Dataset, Dataset.id == DoiCollectionDataset.dataset_id)
        .where(DoiCollectionDataset.collection_id == collection_id)
    ).one()
    first, last = row[3], row[4]
    return {
        "datasets": int(row[0]),
        "files": int(row[1]),
        "bytes": int(row[2]),
        "first": as_utc(first) if first else None,
        "last": as_utc(last) if last else None,
    }


def collection_techniques(session: Session, collection_id: int) -> list[str]:
    """The techniques of a collection's datasets."""
    found = session.scalars(
        select(Dataset.technique)
        .join(DoiCollectionDataset, DoiCollectionDataset.dataset_id == Dataset.id)
        .where(DoiCollectionDataset.collection_id == collection_id, Dataset.technique != "")
        .distinct()
    )
    return sorted(set(found))


def collection_release(
    settings: Settings, investigations: Sequence[Investigation]
) -> datetime | None:
    """When every dataset of a collection is open: the latest release of its
    investigations (None for an empty collection)."""
    releases = [expected_release(settings, inv) for inv in investigations]
    return max(releases) if releases else None


def collection_attributes(
    session: Session, settings: Settings, collection: DoiCollection, doi: str
) -> dict[str, Any]:
    """The DataCite attributes of a collection's DOI."""
    investigations = collection_investigations(session, collection.id)
    totals = collection_totals(session, collection.id)
    release = collection_release(settings, investigations) or utcnow()
    available = max(release, as_utc(collection.decided or collection.created))
    requester = session.get(User, collection.requested_by) if collection.requested_by else None
    creators: list[dict[str, Any]] = [person(requester)] if requester else []
    seen = {requester.id} if requester else set()
    for investigation in investigations:
        for participant in investigation.participants:
            if (
                participant.role == ParticipantRole.principal_investigator
                and participant.user_id not in seen
            ):
                seen.add(participant.user_id)
                creators.append(person(participant.user))
    attributes = _base(settings, doi, collection.title, available.year)
    dates = [{"date": day(available), "dateType": "Available"}]
    if totals["first"] is not None:
        dates.insert(
            0, {"date": f"{day(totals['first'])}/{day(totals['last'])}", "dateType": "Collected"}
        )
    descriptions = _descriptions(
        collection.description,
        f"A collection of {totals['datasets']} datasets from {len(investigations)} "
        f"investigations at the {settings.facility_name}.",
        "Other",
    )
    first_ids = (
        select(DoiCollectionDataset.dataset_id)
        .where(DoiCollectionDataset.collection_id == collection.id)
        .order_by(DoiCollectionDataset.dataset_id)
    )
    attributes.update(
        creators=creators or [facility_organisation(settings)],
        contributors=[{**facility_organisation(settings), "contributorType": "HostingInstitution"}],
        subjects=[subject(t) for t in collection_techniques(session, collection.id)],
        dates=dates,
        sizes=sizes(totals["bytes"], totals["files"], totals["datasets"]),
        formats=_sample_formats(session, first_ids),
        descriptions=descriptions,
        relatedIdentifiers=[
            _doi_reference(inv.doi, "References") for inv in investigations if inv.doi
        ],
        rightsList=rights(release <= utcnow()),
    )
    attributes["types"] = {"resourceTypeGeneral": "Dataset", "resourceType": "Data collection"}
    return attributes


def citation(attributes: dict[str, Any]) -> str:
    """DataCite's recommended citation: Creators (Year). Title. Publisher. https://doi.org/DOI"""
    names = [c.get("name", "") for c in attributes.get("creators", [])]
    if len(names) > 8:
        names = [*names[:7], "et al."]
    creators = "; ".join(n for n in names if n)
    title = attributes["titles"][0]["title"] if attributes.get("titles") else ""
    publisher_name = attributes.get("publisher", {}).get("name", "")
    return (
        f"{creators} ({attributes.get('publicationYear', '')}). {title.rstrip('.')}. "
        f"{publisher_name}. https://doi.org/{attributes.get('doi', '')}"
    )
