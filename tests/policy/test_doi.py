"""Investigation DOIs against a server on loopback that speaks DataCite's REST protocol:
registered at creation, findable at release, retried after an outage, refused
requests kept with a reason; and the embedded local registry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import Role, User
from fairbeam.access.service import create_token, create_user
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.catalogue.service import get_investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.policy.doi import ensure_investigation_doi, make_findable, sync_pending
from fairbeam.policy.models import Doi, DoiState
from fairbeam.policy.registry import DataCiteRegistry, RegistryRejected, RegistryUnavailable
from tests.conftest import LiveServer, _free_port
from tests.policy.datacite_server import DataCiteServer, datacite, with_datacite

__all__ = ["datacite"]
ORCID = "0000-0002-1825-0097"


@pytest.fixture
def settings(settings: Settings, datacite: DataCiteServer) -> Settings:
    """This module's fairbeam talks to the fake DataCite."""
    return with_datacite(settings, datacite)


@pytest.fixture
def manager(session: Session) -> str:
    """A facility with one beamline, three people and a manager's token."""
    session.add(Instrument(name="ID19", full_name="Imaging beamline", techniques=["tomography"]))
    session.flush()
    create_user(session, "alice", full_name="Alice Martin", orcid=ORCID)
    create_user(session, "bob", full_name="Bob Durand")
    create_user(session, "stella", full_name="Stella Blanc", role=Role.staff, instruments=["ID19"])
    maria = create_user(session, "maria", role=Role.manager)
    token = create_token(session, maria)
    session.commit()
    return token


def _create(http: httpx.Client, token: str, code: str = "MA-4321") -> httpx.Response:
    return http.post(
        "/api/investigations",
        json={
            "code": code,
            "title": "Fossil teeth in 3D",
            "abstract": "Phase-contrast tomography of fossil teeth.",
            "instrument": "ID19",
            "start": "2020-03-01T08:00:00Z",
            "end": "2020-03-04T08:00:00Z",
            "participants": [
                {"username": "bob", "role": "co_investigator"},
                {"username": "alice", "role": "principal_investigator"},
                {"username": "stella", "role": "local_contact"},
            ],
        },
        headers={"Authorization": f"Bearer {token}"},
    )


def _row(session: Session, doi: str) -> Doi:
    session.expire_all()
    row = session.scalar(select(Doi).where(Doi.doi == doi))
    assert row is not None
    return row


def _actions(session: Session, doi: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.object_type == "doi", AuditRecord.object_id == doi)
            .order_by(AuditRecord.id)
        )
    )


def test_investigation_doi_is_registered_when_it_is_created(
    http: httpx.Client, manager: str, session: Session, datacite: DataCiteServer
) -> None:
    created = _create(http, manager)
    assert created.status_code == 201, created.text
    body = created.json()
    doi = "10.5072/ESRF-MA-4321"
    assert (body["doi"], body["doi_state"]) == (doi, "registered")

    # DataCite holds it, registered (resolves, not findable), created by POST /dois.
    assert datacite.fake.state_of(doi) == "registered"
    assert datacite.fake.requests[0] == ("POST", "/dois", "register")
    held = datacite.fake.dois[doi.lower()].attributes
    assert held["url"] == f"https://data.example.org/doi/{doi}"
    assert held["publicationYear"] == 2023  # end of 2020 + the 3-year embargo
    assert [c["name"] for c in held["creators"]] == ["Martin, Alice", "Durand, Bob"]
    assert held["creators"][0]["nameIdentifiers"] == [
        {
            "nameIdentifier": f"https://orcid.org/{ORCID}",
            "nameIdentifierScheme": "ORCID",
            "schemeUri": "https://orcid.org",
        }
    ]
    assert held["publisher"] == {"name": "European Synchrotron Radiation Facility"}
    assert {"date": "2020-03-01/2020-03-04", "dateType": "Collected"} in held["dates"]

    row = _row(session, doi)
    assert (row.state, row.synced, row.sync_error) == ("registered", True, "")
    assert _actions(session, doi) == ["doi.register"]

    # The registry answers GET with what it holds.
    with DataCiteRegistry(datacite.url, datacite.fake.username, datacite.fake.password) as registry:
        got = registry.get(doi.lower())
    assert (got.state, got.url) == ("registered", held["url"])


def test_doi_becomes_findable_at_release(
    http: httpx.Client, manager: str, session: Session, settings: Settings, datacite: DataCiteServer
) -> None:
    investigation_id = _create(http, manager).json()["id"]
    investigation = get_investigation(session, investigation_id)
    investigation.release_date = utcnow() - timedelta(days=1)
    investigation.released = utcnow()
    row = make_findable(session, settings, investigation)
    session.commit()
    assert row is not None and row.state == "findable" and row.synced
    doi = row.doi
    assert datacite.fake.state_of(doi) == "findable"
    assert datacite.fake.requests[-1] == ("PUT", f"/dois/{doi.lower()}", "publish")
    held = datacite.fake.dois[doi.lower()].attributes
    assert held["publicationYear"] == utcnow().year
    assert held["rightsList"][0]["rightsUri"] == "info:eu-repo/semantics/openAccess"
    assert _actions(session, doi) == ["doi.register", "doi.publish"]
    # Once findable, a second call sends nothing.
    sent = len(datacite.fake.requests)
    make_findable(session, settings, get_investigation(session, investigation_id))
    assert len(datacite.fake.requests) == sent
    assert http.get(f"/api/investigations/{investigation_id}").json()["doi_state"] == "findable"


def test_an_outage_never_blocks_creation_and_the_next_sync_retries(
    http: httpx.Client, manager: str, session: Session, settings: Settings, datacite: DataCiteServer
) -> None:
    datacite.fake.fail_next(1, 500)
    created = _create(http, manager)
    assert created.status_code == 201, created.text
    doi = created.json()["doi"]
    assert datacite.fake.state_of(doi) is None  # the registry failed
    row = _row(session, doi)
    assert not row.synced
    assert "HTTP 500" in row.sync_error

    assert sync_pending(session, settings) == 1
    assert datacite.fake.state_of(doi) == "registered"
    row = _row(session, doi)
    assert (row.synced, row.sync_error) == (True, "")
    assert sync_pending(session, settings) == 0  # nothing left
    assert _actions(session, doi) == ["doi.register", "doi.sync"]


def test_a_registry_that_cannot_be_reached_does_not_block_creation(
    manager: str, session: Session, settings: Settings, engine: object
) -> None:
    unreachable = settings.model_copy(update={"datacite_url": f"http://127.0.0.1:{_free_port()}"})
    live = LiveServer(unreachable, engine)  # type: ignore[arg-type]
    live.start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            created = _create(http, manager, "MA-0001")
    finally:
        live.stop()
    assert created.status_code == 201, created.text
    row = _row(session, created.json()["doi"])
    assert not row.synced and "cannot be reached" in row.sync_error


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"datacite_password": "wrong"}, "refused the credentials"),
        ({"doi_prefix": "10.99999"}, "is the prefix 10.99999 the repository's?"),
    ],
)
def test_refusals_are_kept_on_the_row_with_what_to_fix(
    change: dict[str, str],
    message: str,
    manager: str,
    session: Session,
    settings: Settings,
    datacite: DataCiteServer,
) -> None:
    wrong = settings.model_copy(update=change)
    alice = session.scalar(select(User).where(User.username == "alice"))
    assert alice is not None
    investigation = Investigation(
        code="MA-9", title="T", instrument_id=1, start=utcnow() - timedelta(days=3)
    )
    session.add(investigation)
    session.flush()
    row = ensure_investigation_doi(session, wrong, investigation)
    session.commit()
    assert row is not None and not row.synced
    assert message in row.sync_error
    assert datacite.fake.dois == {}


def test_invalid_metadata_gets_datacite_422_and_is_not_stored(
    manager: str, datacite: DataCiteServer
) -> None:
    with DataCiteRegistry(datacite.url, datacite.fake.username, datacite.fake.password) as registry:
        with pytest.raises(RegistryRejected, match="refused the metadata.*creators"):
            registry.create(
                "10.5072/ESRF-BAD",
                {"url": "https://x.example/doi/1", "titles": [{"title": "No creators"}]},
                DoiState.registered,
            )
    assert datacite.fake.dois == {}


def test_timeouts_and_5xx_are_outages_not_refusals(datacite: DataCiteServer) -> None:
    datacite.fake.fail_next(1, 503)
    with DataCiteRegistry(datacite.url, datacite.fake.username, datacite.fake.password) as registry:
        with pytest.raises(RegistryUnavailable, match="HTTP 503"):
            registry.update("10.5072/ESRF-X", {}, DoiState.registered)
        with pytest.raises(RegistryRejected, match="does not know DOI"):
            registry.get("10.5072/ESRF-NOT-THERE")


@pytest.fixture
def local_settings(settings: Settings) -> Iterator[Settings]:
    yield settings.model_copy(update={"datacite_url": ""})


def test_the_local_registry_keeps_dois_in_the_catalogue_and_sends_nothing(
    manager: str, session: Session, local_settings: Settings, datacite: DataCiteServer
) -> None:
    investigation = Investigation(
        code="MA-7", visit="v/2", title="T", instrument_id=1, start=utcnow() - timedelta(days=3)
    )
    session.add(investigation)
    session.flush()
    row = ensure_investigation_doi(session, local_settings, investigation)
    session.commit()
    assert row is not None
    assert (row.doi, row.state, row.synced) == ("10.5072/ESRF-MA-7-V-2", "registered", True)
    assert investigation.doi == row.doi
    assert datacite.fake.requests == []
    # An investigation created with someone else's DOI keeps it, unmanaged.
    other = Investigation(
        code="MA-8", title="T", instrument_id=1, start=utcnow(), doi="10.1234/ELSEWHERE"
    )
    session.add(other)
    session.flush()
    assert ensure_investigation_doi(session, local_settings, other) is None
