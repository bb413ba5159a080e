"""Harvest over HTTP: who may harvest what, paths under the data roots only, the problems
list for the data manager, and the events registrations publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.events import DATASET_REGISTERED, DatasetRegistered
from fairbeam.ingest.service import Harvester
from tests.conftest import LiveServer
from tests.ingest import files
from tests.ingest.tree import acquisition, add_facility, datasets_at
from tests.world import World


@pytest.fixture
def data(settings: Settings, world: World, session: Session) -> Path:
    add_facility(session)
    root = settings.data_roots[0]
    root.mkdir(parents=True, exist_ok=True)
    return root


def ingest(http: httpx.Client, world: World, role: str, *paths: Path | str) -> httpx.Response:
    body: dict[str, Any] = {"paths": [str(p) for p in paths]}
    return http.post("/api/ingest", json=body, headers=world.headers(role))


def outcomes(response: httpx.Response) -> dict[str, tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return {o["location"]: (o["status"], o["message"]) for o in response.json()["outcomes"]}


def test_paths_outside_the_data_roots_are_refused(
    http: httpx.Client, world: World, data: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    files.write_bliss_multiscan(elsewhere / "s_0001.h5", scans=1)
    (data / "shortcut").symlink_to(elsewhere)
    for path in (elsewhere, data / ".." / "elsewhere", data / "shortcut", Path("/etc")):
        response = ingest(http, world, "manager", data, path)
        assert response.status_code == 422
        assert response.json() == {"detail": f"path {path} is outside the data roots ({data})"}


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("other_user", 403), ("participant", 403)]
)
def test_who_may_not_harvest(
    http: httpx.Client, world: World, data: Path, session: Session, role: str, status: int
) -> None:
    files.write_bliss_multiscan(acquisition(data, "s", "0001"), scans=1)
    response = ingest(http, world, role, data)
    assert response.status_code == status
    assert datasets_at(session, data) == []


def test_staff_harvest_their_beamline_only(
    http: httpx.Client, world: World, data: Path, session: Session
) -> None:
    id23 = files.write_bliss_multiscan(acquisition(data, "s", "0001"), scans=1)
    unknown = files.write_bliss_multiscan(
        acquisition(data, "s", "0001", proposal="zz0001"), scans=1
    )
    id11 = files.write_bliss_multiscan(
        acquisition(data, "s", "0001", proposal="hc2000", beamline="id11"), scans=1
    )
    refused = (
        "oscar may not register data on instrument 'ID23'; "
        "only managers, its staff and software bound to it may"
    )
    # Staff of ID11: their beamline's dataset is registered, ID23's are not, and no
    # placeholder proposal is made for them.
    assert outcomes(ingest(http, world, "other_staff", data)) == {
        str(id11.parent): ("created", None),
        str(id23.parent): ("failed", refused),
        str(unknown.parent): ("failed", refused),
    }
    session.expire_all()
    assert datasets_at(session, data) == [str(id11.parent)]
    assert session.scalar(select(func.count()).where(Investigation.code == "zz0001")) == 0
    # The refused ones are read again next time, by someone who may register them.
    assert outcomes(ingest(http, world, "staff", data)) == {
        str(id11.parent): ("unchanged", None),
        str(id23.parent): ("created", None),
        str(unknown.parent): ("created", None),
    }
    query = select(Dataset.location, Investigation.code).join(
        Investigation, Investigation.id == Dataset.investigation_id
    )
    codes = {location: code for location, code in session.execute(query)}
    assert codes[str(id11.parent)] == "HC-2000"
    assert codes[str(id23.parent)] == "MX-2471"
    assert codes[str(unknown.parent)] == "zz0001"


@pytest.mark.parametrize("role", ["manager", "software"])
def test_managers_and_software_harvest(
    http: httpx.Client, world: World, data: Path, role: str
) -> None:
    id23 = files.write_bliss_multiscan(acquisition(data, "s", "0001"), scans=1)
    id11 = files.write_bliss_multiscan(
        acquisition(data, "s", "0001", proposal="hc2000", beamline="id11"), scans=1
    )
    response = ingest(http, world, role, data)
    expected = {str(id23.parent): "created"}
    # Software bound to ID23 registers there only; a manager everywhere.
    expected[str(id11.parent)] = "created" if role == "manager" else "failed"
    assert {k: v[0] for k, v in outcomes(response).items()} == expected
    summary = response.json()["summary"]
    assert summary["created"] == list(expected.values()).count("created")


def test_problems_for_the_data_manager(http: httpx.Client, world: World, data: Path) -> None:
    bad = [files.write_bad(acquisition(data, "bad", f"{n:04d}"), "text") for n in range(5)]
    missing = acquisition(data, "links", "0001")
    files.write_with_external_frames(missing, 2, missing=1)
    response = ingest(http, world, "manager", data)
    assert response.json()["summary"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "failed": 5,
    }
    for role, status in (("anonymous", 401), ("staff", 403), ("software", 403)):
        assert http.get("/api/ingest/problems", headers=world.headers(role)).status_code == status
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/ingest/problems", params=params, headers=world.headers("manager"))
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen.extend(body["items"])
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 3
    assert len({p["id"] for p in seen}) == 6
    assert [p["id"] for p in seen] == sorted((p["id"] for p in seen), reverse=True)
    lines = {(p["path"], p["severity"], p["message"]) for p in seen}
    assert lines == {
        (str(path), "error", f"{path}: is not an HDF5 file (no HDF5 signature)") for path in bad
    } | {
        (
            str(missing.parent),
            "warning",
            "external link entry/instrument/eiger/data_000002 → "
            f"{missing.parent / 'links_0001_data_000002.h5'} is missing",
        )
    }
    (warning,) = [p for p in seen if p["severity"] == "warning"]
    assert warning["dataset_id"] is not None
    assert all("\n" not in p["message"] for p in seen)


def test_registrations_publish_events(
    server: LiveServer, http: httpx.Client, world: World, data: Path, session: Session
) -> None:
    seen: list[DatasetRegistered] = []
    server.app.state.events.subscribe(DATASET_REGISTERED, seen.append)
    body = {
        "investigation": "MX-1001",
        "name": "posted_0001",
        "location": "/data/visitor/MX-1001/posted_0001",
        "files": [{"path": "posted_0001.h5", "size": 10}],
    }
    posted = http.post("/api/datasets", json=body, headers=world.headers("software"))
    assert posted.status_code in (200, 201), posted.text
    dataset_id = posted.json()["id"]
    mx1001 = session.get(Investigation, world.closed_investigation)
    assert mx1001 is not None
    assert seen == [
        DatasetRegistered(
            dataset_id=dataset_id,
            investigation_id=mx1001.id,
            instrument_id=mx1001.instrument_id,
            location=body["location"],
            created=True,
            source="api",
            actor="bliss-id23",
        )
    ]
    again = http.post("/api/datasets", json=body, headers=world.headers("software"))
    assert again.status_code in (200, 201)
    assert [(e.dataset_id, e.created) for e in seen[1:]] == [(dataset_id, False)]
    # Refused registrations say nothing.
    refused = http.post(
        "/api/datasets", json=body | {"investigation": "HC-2000"}, headers=world.headers("software")
    )
    assert refused.status_code == 403
    assert len(seen) == 2
    # Harvest over HTTP publishes on the same bus.
    master = files.write_bliss_multiscan(acquisition(data, "s", "0001"), scans=1)
    outcomes(ingest(http, world, "staff", data))
    assert [(e.location, e.source, e.actor, e.created) for e in seen[2:]] == [
        (str(master.parent), "harvest", "stella", True)
    ]


def test_one_dataset_whichever_way_a_linked_data_root_is_harvested(
    http: httpx.Client,
    world: World,
    settings: Settings,
    engine: Engine,
    session: Session,
    tmp_path: Path,
) -> None:
    # The configured data root is a link to the file system's real mount point, as
    # /data often is: over HTTP and from the command, a dataset is the same one.
    mount = tmp_path / "gpfs"
    mount.mkdir()
    data = settings.data_roots[0]
    data.symlink_to(mount)
    add_facility(session)
    master = files.write_bliss_multiscan(acquisition(data, "s", "0001"), scans=1)
    assert outcomes(ingest(http, world, "staff", data)) == {str(master.parent): ("created", None)}
    report = Harvester(make_sessionmaker(engine), settings, SYSTEM).ingest([data])
    assert [(o.location, o.status) for o in report.outcomes] == [(str(master.parent), "unchanged")]
    session.expire_all()
    assert datasets_at(session, tmp_path) == [str(master.parent)]
