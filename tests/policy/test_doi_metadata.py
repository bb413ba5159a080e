"""The DataCite metadata built from the catalogue validates against DataCite's own
kernel-4 XML schema (converted to DataCite XML by the datacite package's 4.5
serializer) and against the datacite package's JSON schema 4.5, and says what the
catalogue knows: creators in order with ORCID iDs, the facility, techniques, dates,
sizes, formats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from datacite import schema45
from sqlalchemy.orm import Session

from fairbeam.access.models import Role
from fairbeam.access.policy import SYSTEM
from fairbeam.access.service import create_user, principal_of
from fairbeam.catalogue.models import (
    Instrument,
    Investigation,
    Participant,
    ParticipantRole,
)
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.catalogue.service import get_investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.policy import collections, datacite
from fairbeam.policy.collections import DoiRequestIn
from tests.policy.datacite_server import NOT_METADATA, schema_errors, to_xml

ORCID = "0000-0001-5109-3700"


@pytest.fixture
def investigation(session: Session) -> Investigation:
    session.add(Instrument(name="ID19", full_name="Imaging", techniques=["tomography"]))
    session.flush()
    people = {
        "pi": create_user(session, "pia", full_name="Pia Rossi", orcid=ORCID),
        "coi": create_user(session, "cole", full_name="Durand, Cole"),
        "collab": create_user(session, "kim"),
        "lc": create_user(session, "lou", full_name="Lou Petit", role=Role.staff),
    }
    inv = Investigation(
        code="ES-1234",
        title="Fossil teeth <in> 3D & more",
        abstract="Phase-contrast tomography of fossil teeth.",
        instrument_id=1,
        start=utcnow() - timedelta(days=10),
        end=utcnow() - timedelta(days=8),
        release_date=utcnow() + timedelta(days=1000),
    )
    session.add(inv)
    session.flush()
    roles = {
        "collab": ParticipantRole.collaborator,
        "lc": ParticipantRole.local_contact,
        "coi": ParticipantRole.co_investigator,
        "pi": ParticipantRole.principal_investigator,
    }
    for key, role in roles.items():
        session.add(Participant(investigation_id=inv.id, user_id=people[key].id, role=role))
    session.flush()
    register_datasets(
        session,
        SYSTEM,
        [
            DatasetIn(
                investigation="ES-1234",
                name=f"tooth_{n}",
                location=f"/data/ES-1234/tooth_{n}",
                technique=technique,
                files=[{"path": f"tooth_{n}.h5", "size": 100}, {"path": "frame.cbf", "size": 50}],
            )
            for n, technique in enumerate(["tomography", "phase contrast imaging"])
        ],
    )
    session.commit()
    session.expire_all()  # the counters registration updated
    return get_investigation(session, inv.id)


def _json_schema_errors(attributes: dict[str, object]) -> list[str]:
    """The datacite package's JSON schema 4.5 (REST-only attributes left out)."""
    metadata = {k: v for k, v in attributes.items() if k not in NOT_METADATA - {"schemaVersion"}}
    metadata["publicationYear"] = str(metadata["publicationYear"])
    return [f"{list(e.path)}: {e.message}" for e in schema45.validator.iter_errors(metadata)]


def test_investigation_metadata_is_valid_datacite(
    session: Session, settings: Settings, investigation: Investigation
) -> None:
    doi = datacite.investigation_doi(settings, investigation)
    attributes = datacite.investigation_attributes(session, settings, investigation, doi)
    assert schema_errors(attributes) == []
    assert _json_schema_errors(attributes) == []

    assert doi == "10.5072/ESRF-ES-1234"
    assert [
        (c["name"], c.get("givenName"), c.get("familyName")) for c in attributes["creators"]
    ] == [
        ("Rossi, Pia", "Pia", "Rossi"),
        ("Durand, Cole", "Cole", "Durand"),
        ("kim", None, None),  # no full name known: the username, no parts
    ]
    assert attributes["creators"][0]["nameIdentifiers"][0]["nameIdentifier"] == (
        f"https://orcid.org/{ORCID}"
    )
    assert [c["contributorType"] for c in attributes["contributors"]] == [
        "DataCollector",  # the local contact
        "HostingInstitution",
    ]
    assert attributes["publisher"] == {"name": settings.facility_name}
    assert attributes["types"]["resourceTypeGeneral"] == "Dataset"
    assert attributes["subjects"] == [
        {"subject": "phase contrast imaging"},
        {
            "subject": "tomography",
            "subjectScheme": "PaNET",
            "schemeUri": "http://purl.org/pan-science/PaNET/",
        },
    ]
    assert attributes["formats"] == ["application/x-hdf5", "image/x-cbf"]
    assert attributes["sizes"] == ["300 bytes", "4 files", "2 datasets"]
    release = investigation.release_date
    assert release is not None
    assert attributes["publicationYear"] == release.year
    assert {"date": release.date().isoformat(), "dateType": "Available"} in attributes["dates"]
    assert attributes["rightsList"][0]["rights"] == "Embargoed access"
    assert attributes["url"] == f"{settings.public_url}/doi/{doi}"
    assert datacite.citation(attributes) == (
        f"Rossi, Pia; Durand, Cole; kim ({release.year}). Fossil teeth <in> 3D & more. "
        f"{settings.facility_name}. https://doi.org/{doi}"
    )


def test_collection_metadata_is_valid_datacite(
    session: Session, settings: Settings, investigation: Investigation
) -> None:
    user = create_user(session, "mina", full_name="Mina Kato")
    manager = create_user(session, "boss", role=Role.manager)
    session.add(
        Participant(investigation_id=investigation.id, user_id=user.id, role="collaborator")
    )
    session.commit()
    request = collections.create_request(
        session,
        principal_of(session, user),
        DoiRequestIn(title="Teeth", datasets=[1, 2]),
    )
    collections.decide(session, settings, principal_of(session, manager), request.id, True, "")
    session.commit()
    attributes = datacite.collection_attributes(
        session, settings, request, datacite.collection_doi(settings, request)
    )
    assert schema_errors(attributes) == []
    assert _json_schema_errors(attributes) == []
    assert [c["name"] for c in attributes["creators"]] == ["Kato, Mina", "Rossi, Pia"]


def test_an_investigation_without_people_or_abstract_is_still_valid(
    session: Session, settings: Settings
) -> None:
    session.add(Instrument(name="BM05", techniques=[]))
    session.flush()
    bare = Investigation(code="IH-1", title="T", instrument_id=1, start=utcnow())
    session.add(bare)
    session.commit()
    bare = get_investigation(session, bare.id)
    attributes = datacite.investigation_attributes(session, settings, bare, "10.5072/ESRF-IH-1")
    assert attributes["creators"][0]["nameType"] == "Organizational"
    assert schema_errors(attributes) == []


def test_the_schema_check_can_fail(
    session: Session, settings: Settings, investigation: Investigation
) -> None:
    attributes = datacite.investigation_attributes(session, settings, investigation, "10.5072/X")
    broken = {**attributes, "types": {"resourceTypeGeneral": "Spreadsheet"}}
    assert any("resourceTypeGeneral" in e for e in schema_errors(broken))
    without = {k: v for k, v in attributes.items() if k != "creators"}
    assert any("creators" in e for e in schema_errors(without))
    assert "<resource" in to_xml(attributes).decode()
