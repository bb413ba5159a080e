"""DOIs on collections of datasets, over HTTP against the fake DataCite: a user asks,
a manager decides, the DOI is registered until every dataset is open, then findable."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.service import get_investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.policy.collections import MAX_DATASETS
from fairbeam.policy.doi import ensure_investigation_doi, publish_ready_collections
from fairbeam.policy.models import DoiCollection
from tests.policy.datacite_server import DataCiteServer, datacite, with_datacite
from tests.world import World

__all__ = ["datacite"]


@pytest.fixture
def settings(settings: Settings, datacite: DataCiteServer) -> Settings:
    return with_datacite(settings, datacite)


def _ask(
    http: httpx.Client, world: World, role: str, datasets: list[int], **extra: object
) -> httpx.Response:
    body = {"title": "Lysozyme across two proposals", "datasets": datasets, **extra}
    return http.post("/api/doi-requests", json=body, headers=world.headers(role))


def _decide(
    http: httpx.Client, world: World, request_id: int, approve: bool, role: str = "manager"
) -> httpx.Response:
    return http.post(
        f"/api/doi-requests/{request_id}/decision",
        json={"approve": approve, "note": "ok" if approve else "not citable yet"},
        headers=world.headers(role),
    )


def test_approved_collection_is_registered_then_findable_when_all_data_opens(
    http: httpx.Client,
    world: World,
    session: Session,
    settings: Settings,
    datacite: DataCiteServer,
) -> None:
    for investigation_id in (world.closed_investigation, world.open_investigation):
        ensure_investigation_doi(session, settings, get_investigation(session, investigation_id))
    session.commit()
    asked = _ask(
        http,
        world,
        "participant",
        [world.closed_dataset, world.open_dataset],
        description="The structures behind the thesis.",
    )
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["dataset_count"], request["requested_by"]) == (
        "pending",
        2,
        "alice",
    )
    assert request["doi"] is None

    decided = _decide(http, world, request["id"], True)
    assert decided.status_code == 200, decided.text
    doi = decided.json()["doi"]
    assert doi == f"10.5072/ESRF-DC-{request['id']}"
    # One dataset is still under embargo: registered, not findable.
    assert decided.json()["doi_state"] == "registered"
    assert datacite.fake.state_of(doi) == "registered"
    held = datacite.fake.dois[doi.lower()].attributes
    assert held["creators"][0]["name"] == "alice"  # the requester first
    assert {r["relatedIdentifier"] for r in held["relatedIdentifiers"]} == {
        "10.5072/ESRF-MX-1001",
        "10.5072/ESRF-MX-0900",
    }
    assert all(r["relationType"] == "References" for r in held["relatedIdentifiers"])
    assert held["sizes"] == ["6144 bytes", "4 files", "2 datasets"]
    assert held["descriptions"][0] == {
        "description": "The structures behind the thesis.",
        "descriptionType": "Abstract",
    }
    assert _decide(http, world, request["id"], False).status_code == 409

    # Nothing to publish until the embargoed investigation opens (in 700 days).
    assert publish_ready_collections(session, settings, date.today()) == 0
    assert datacite.fake.state_of(doi) == "registered"
    later = (utcnow() + timedelta(days=800)).date()
    assert publish_ready_collections(session, settings, later) == 1
    assert datacite.fake.state_of(doi) == "findable"
    assert datacite.fake.requests[-1] == ("PUT", f"/dois/{doi.lower()}", "publish")
    assert publish_ready_collections(session, settings, later) == 0

    actions = list(
        session.scalars(
            select(AuditRecord.action)
            .where(
                AuditRecord.action.like("doi%"),
                AuditRecord.object_id.in_([doi, str(request["id"])]),
            )
            .order_by(AuditRecord.id)
        )
    )
    assert actions == ["doi.request", "doi.request.approve", "doi.register", "doi.publish"]


def test_collection_of_open_data_is_findable_at_once_and_public(
    http: httpx.Client, world: World, datacite: DataCiteServer
) -> None:
    request = _ask(http, world, "other_user", [world.open_dataset]).json()
    decided = _decide(http, world, request["id"], True).json()
    assert decided["doi_state"] == "findable"
    assert datacite.fake.state_of(decided["doi"]) == "findable"
    public = http.get(f"/api/dois/{decided['doi'].lower()}")
    assert public.status_code == 200, public.text
    body = public.json()
    assert (body["kind"], body["open"], body["collection"], body["dataset_count"]) == (
        "collection",
        True,
        request["id"],
        1,
    )
    assert body["citation"].endswith(f"https://doi.org/{decided['doi']}")
    assert http.get("/api/dois/10.5072/ESRF-DC-999").status_code == 404


def test_refusal_mints_nothing(http: httpx.Client, world: World, datacite: DataCiteServer) -> None:
    request = _ask(http, world, "participant", [world.closed_dataset]).json()
    assert _decide(http, world, request["id"], True, role="participant").status_code == 403
    refused = _decide(http, world, request["id"], False)
    assert refused.status_code == 200
    assert (refused.json()["status"], refused.json()["doi"], refused.json()["note"]) == (
        "refused",
        None,
        "not citable yet",
    )
    assert datacite.fake.dois == {}


@pytest.mark.parametrize(
    ("role", "datasets", "status", "detail"),
    [
        ("anonymous", ["open"], 401, "needs a login"),
        ("other_user", ["closed"], 404, "not found"),  # closed to bob: names nothing
        ("other_user", ["open", "closed"], 404, "not found"),
        ("participant", [999999], 404, "not found"),
        ("participant", ["open", "open"], 422, "listed more than once"),
        ("participant", [], 422, "datasets"),
    ],
)
def test_request_rules(
    role: str,
    datasets: list[str | int],
    status: int,
    detail: str,
    http: httpx.Client,
    world: World,
    session: Session,
) -> None:
    ids = {"open": world.open_dataset, "closed": world.closed_dataset}
    named = [ids[d] if isinstance(d, str) else d for d in datasets]
    answer = _ask(http, world, role, named)
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    if status == 404:
        assert str(world.closed_dataset) not in answer.json()["detail"]
    assert session.scalar(select(func.count()).select_from(DoiCollection)) == 0


def test_title_and_size_limits(http: httpx.Client, world: World) -> None:
    blank = _ask(http, world, "participant", [world.open_dataset], title="   ")
    assert blank.status_code == 422 and "title" in blank.json()["detail"]
    too_many = _ask(http, world, "participant", list(range(1, MAX_DATASETS + 2)))
    assert too_many.status_code == 422 and "datasets" in too_many.json()["detail"]


def test_lists_show_managers_all_and_users_their_own(http: httpx.Client, world: World) -> None:
    mine = [_ask(http, world, "participant", [world.open_dataset]).json()["id"] for _ in range(3)]
    theirs = _ask(http, world, "other_user", [world.open_dataset]).json()["id"]
    _decide(http, world, mine[0], False)

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/doi-requests", params=params, headers=world.headers("manager"))
        assert page.status_code == 200
        seen += [r["id"] for r in page.json()["items"]]
        cursor = page.json()["next"]
        if not cursor:
            break
    assert seen == sorted([*mine, theirs], reverse=True)  # newest first, each once

    own = http.get("/api/doi-requests", headers=world.headers("participant")).json()["items"]
    assert [r["id"] for r in own] == sorted(mine, reverse=True)
    pending = http.get(
        "/api/doi-requests", params={"status": "pending"}, headers=world.headers("participant")
    ).json()["items"]
    assert [r["id"] for r in pending] == sorted(mine[1:], reverse=True)
    bad = http.get("/api/doi-requests", params={"status": "lost"}, headers=world.headers("manager"))
    assert bad.status_code == 422
    assert (
        http.get(f"/api/doi-requests/{theirs}", headers=world.headers("participant")).status_code
        == 404
    )
    assert (
        http.get(f"/api/doi-requests/{theirs}", headers=world.headers("other_user")).status_code
        == 200
    )
    assert (
        http.get(f"/api/doi-requests/{theirs}", headers=world.headers("manager")).status_code == 200
    )
