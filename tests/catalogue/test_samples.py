"""An investigation's samples, and the placeholder filter of the investigation list."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Instrument, Investigation, Sample
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.db.base import utcnow
from tests.world import World


def _register(session: Session, world: World, code: str, name: str, sample: str) -> None:
    register_datasets(
        session,
        world.principals["manager"],
        [DatasetIn(investigation=code, name=name, location=f"/data/{code}/{name}", sample=sample)],
    )


def _all_pages(http: httpx.Client, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        response = http.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 1
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items


def test_samples_by_name_with_their_dataset_counts(
    http: httpx.Client, world: World, session: Session
) -> None:
    _register(session, world, "MX-1001", "thaumatin_1", "thaumatin")
    _register(session, world, "MX-1001", "thaumatin_2", "thaumatin")
    _register(session, world, "MX-0900", "insulin_1", "insulin")  # another investigation
    session.add(
        Sample(
            investigation_id=world.closed_investigation,
            name="apoferritin",
            chemical_formula="C5H9NO2",
            description="Not measured yet",
        )
    )
    session.commit()

    url = f"/api/investigations/{world.closed_investigation}/samples"
    samples = _all_pages(http, url, world.headers("participant"))

    assert [(s["name"], s["dataset_count"]) for s in samples] == [
        ("apoferritin", 0),
        ("lysozyme", 1),
        ("thaumatin", 2),
    ]
    assert samples[0]["chemical_formula"] == "C5H9NO2"
    assert samples[0]["description"] == "Not measured yet"
    by_code = http.get("/api/investigations/MX-1001/samples", headers=world.headers("staff"))
    assert [s["name"] for s in by_code.json()["items"]] == ["apoferritin", "lysozyme", "thaumatin"]


def test_samples_of_an_embargoed_investigation_are_hidden(http: httpx.Client, world: World) -> None:
    for role in ("anonymous", "other_user", "other_staff"):
        response = http.get("/api/investigations/MX-1001/samples", headers=world.headers(role))
        assert response.status_code == 404, role
        assert response.json() == {"detail": "investigation MX-1001 not found"}
    released = http.get(f"/api/investigations/{world.open_investigation}/samples")
    assert [s["name"] for s in released.json()["items"]] == ["lysozyme"]


def test_placeholder_filter(http: httpx.Client, world: World, session: Session) -> None:
    now = utcnow()
    session.add(
        Investigation(
            code="UNKNOWN-ID23-2025",
            title="Data waiting for a proposal",
            instrument_id=session.scalar(select(Instrument.id).where(Instrument.name == "ID23")),
            start=now,
            placeholder=True,
        )
    )
    session.commit()

    def codes(**params: str) -> set[str]:
        response = http.get("/api/investigations", params=params, headers=world.headers("manager"))
        assert response.status_code == 200, response.text
        return {item["code"] for item in response.json()["items"]}

    assert codes(placeholder="true") == {"UNKNOWN-ID23-2025"}
    assert codes(placeholder="false") == {"MX-1001", "MX-0900", "HC-2000"}
    assert codes() == {"UNKNOWN-ID23-2025", "MX-1001", "MX-0900", "HC-2000"}
    assert codes(placeholder="true", scope="open") == set()
    assert codes(placeholder="true", instrument="ID11") == set()
    assert codes(placeholder="true", instrument="ID23") == {"UNKNOWN-ID23-2025"}
    placeholder = http.get("/api/investigations", params={"placeholder": "true"}).json()
    assert placeholder["items"][0]["placeholder"] is True
    refused = http.get("/api/investigations", params={"placeholder": "maybe"})
    assert refused.status_code == 422
