"""Registration is idempotent for an investigation and location, and transactional."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from fairbeam.catalogue import registration
from fairbeam.catalogue.models import Dataset, DatasetSummary, Investigation
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.db.base import Base
from tests.world import World


def scan(name: str, files: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A registration in the closed investigation MX-1001 of ID23."""
    return {
        "investigation": "MX-1001",
        "name": name,
        "location": f"/data/visitor/MX-1001/{name}",
        "technique": "MX",
        "start": "2025-03-01T10:00:00Z",
        "files": files,
        **extra,
    }


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the catalogue."""
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def summary_of(session: Session, investigation_id: int) -> tuple[int, int, int]:
    """Datasets, files and bytes the summary table holds for an investigation."""
    session.expire_all()
    s = DatasetSummary
    row = session.execute(
        select(
            func.coalesce(func.sum(s.datasets), 0),
            func.coalesce(func.sum(s.files), 0),
            func.coalesce(func.sum(s.volume_bytes), 0),
        ).where(s.investigation_id == investigation_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def counters_of(session: Session, investigation_id: int) -> tuple[int, int, int]:
    """Datasets, files and bytes stored on the investigation."""
    session.expire_all()
    inv = session.get(Investigation, investigation_id)
    assert inv is not None
    return inv.dataset_count, inv.file_count, inv.volume_bytes


def test_same_location_twice_is_one_dataset_with_merged_files(
    http: httpx.Client, world: World, session: Session
) -> None:
    headers = world.headers("software")
    before = counters_of(session, world.closed_investigation)
    assert before == (1, 2, 3072)
    first = http.post(
        "/api/datasets",
        json=scan("scan_0002", [{"path": "a.h5", "size": 100}, {"path": "b.h5", "size": 200}]),
        headers=headers,
    )
    assert first.status_code == 201, first.text
    again = http.post(
        "/api/datasets",
        json=scan(
            "scan_0002",
            [{"path": "b.h5", "size": 250, "checksum": "adler32:1"}, {"path": "c.h5", "size": 50}],
            parameters={"energy": {"value": 12.4, "unit": "keV"}},
        ),
        headers=headers,
    )
    assert again.status_code == 200, again.text
    dataset = again.json()
    assert dataset["id"] == first.json()["id"]
    assert (dataset["file_count"], dataset["volume_bytes"]) == (3, 400)
    assert dataset["parameters"] == {"energy": {"value": 12.4, "unit": "keV"}}
    files = http.get(f"/api/datasets/{dataset['id']}/files", headers=headers).json()["items"]
    assert [(f["path"], f["size"], f["checksum"]) for f in files] == [
        ("a.h5", 100, None),
        ("b.h5", 250, "adler32:1"),
        ("c.h5", 50, None),
    ]
    # The investigation, the summary behind the facets, and the facets all count it once.
    assert counters_of(session, world.closed_investigation) == (2, 5, 3472)
    assert summary_of(session, world.closed_investigation) == (2, 5, 3472)
    facets = http.get(
        "/api/datasets/facets", params={"investigation": "MX-1001"}, headers=headers
    ).json()
    assert facets["total"] == 2
    assert {f["value"]: f["count"] for f in facets["year"]}["2025"] == 1
    listed = http.get("/api/datasets", params={"investigation": "MX-1001"}, headers=headers)
    assert len(listed.json()["items"]) == 2
    investigation = http.get("/api/investigations/MX-1001").json()
    assert (investigation["dataset_count"], investigation["volume_bytes"]) == (2, 3472)


def test_a_move_to_another_year_moves_the_counts(
    http: httpx.Client, world: World, session: Session
) -> None:
    headers = world.headers("manager")
    files = [{"path": "a.h5", "size": 10}]
    assert http.post("/api/datasets", json=scan("s", files), headers=headers).status_code == 201
    moved = scan("s", files, start="2024-06-01T00:00:00Z", type="processed")
    assert http.post("/api/datasets", json=moved, headers=headers).status_code == 200
    facets = http.get(
        "/api/datasets/facets", params={"investigation": "MX-1001"}, headers=headers
    ).json()
    years = {f["value"]: f["count"] for f in facets["year"]}
    assert years.get("2024") == 1 and "2025" not in years
    assert {f["value"]: f["count"] for f in facets["type"]} == {"raw": 1, "processed": 1}
    assert summary_of(session, world.closed_investigation) == (2, 3, 3082)


def test_a_batch_with_one_bad_item_writes_nothing(
    http: httpx.Client, world: World, engine: Engine
) -> None:
    before = row_counts(engine)
    batch = {
        "datasets": [
            scan("scan_0003", [{"path": "a.h5", "size": 1}], sample="lysozyme"),
            scan("scan_0004", [{"path": "a.h5", "size": 1}], parameters={"dose": 3}),
            {**scan("scan_0005", []), "investigation": "NO-SUCH"},
        ]
    }
    response = http.post("/api/datasets/batch", json=batch, headers=world.headers("manager"))
    assert response.status_code == 422
    assert "NO-SUCH" in response.json()["detail"]
    assert row_counts(engine) == before


@pytest.mark.parametrize("step", ["apply_counts", "_link_inputs"])
def test_a_failure_after_the_rows_are_written_leaves_nothing(
    step: str,
    http: httpx.Client,
    world: World,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = row_counts(engine)
    written: list[int] = []

    def fail(session: Session, *args: Any) -> None:
        # The datasets and their files are in the transaction by now.
        written.append(session.scalar(select(func.count()).select_from(Dataset)) or 0)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(registration, step, fail)
    new = scan("scan_0006", [{"path": "a.h5", "size": 1}], parameters={"dose": 3})
    update = scan("closed_0001", [{"path": "new.h5", "size": 5}])
    update["location"] = "/data/visitor/MX-1001/closed_0001"
    response = http.post(
        "/api/datasets/batch", json={"datasets": [new, update]}, headers=world.headers("manager")
    )
    assert response.status_code == 500
    assert "request id" in response.json()["detail"]
    assert written == [before["dataset"] + 1]
    assert row_counts(engine) == before


def test_concurrent_registrations_of_one_location_make_one_dataset(
    server: Any, world: World, session: Session
) -> None:
    threads = 6
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    ids: list[int] = []

    def register(n: int) -> None:
        body = scan("race", [{"path": f"frame_{n}.h5", "size": 10}, {"path": "master.h5"}])
        with httpx.Client(base_url=server.url, timeout=60) as client:
            barrier.wait()
            response = client.post("/api/datasets", json=body, headers=world.headers("software"))
        statuses.append(response.status_code)
        ids.append(response.json().get("id", -1))

    workers = [threading.Thread(target=register, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(statuses) == [200] * (threads - 1) + [201]
    assert len(set(ids)) == 1
    session.expire_all()
    found = session.scalars(select(Dataset).where(Dataset.name == "race")).all()
    assert len(found) == 1
    assert found[0].file_count == threads + 1
    assert counters_of(session, world.closed_investigation) == (2, 2 + threads + 1, 3072 + 60)
    assert summary_of(session, world.closed_investigation) == (2, 2 + threads + 1, 3072 + 60)


def test_parameters_come_back_exactly_as_submitted(http: httpx.Client, world: World) -> None:
    parameters = {
        "wavelength": {"value": 0.966, "unit": "Å"},
        "energy": {"value": "12.40", "unit": "keV"},
        "edge": "12.4 keV",
        "flux": {"value": 3.2e12, "unit": "ph/s"},
        "gain": {"value": 5, "unit": "counts per gizmo"},
        "frames": 3600,
        "mode": "continuous rotation",
        "shutter": True,
        "roi": [[0, 0], [1024, 512]],
        "note": None,
        "detector": {"value": {"model": "Eiger2 X 16M", "gain": "high"}, "unit": None},
    }
    created = http.post(
        "/api/datasets",
        json=scan("params", [], parameters=parameters),
        headers=world.headers("software"),
    )
    assert created.status_code == 201, created.text
    expected = {
        name: value if isinstance(value, dict) else {"value": value, "unit": None}
        for name, value in parameters.items()
    }
    assert created.json()["parameters"] == expected
    again = http.get(f"/api/datasets/{created.json()['id']}", headers=world.headers("participant"))
    assert again.json()["parameters"] == expected


def test_unknown_units_and_plain_values_are_stored_and_searchable(
    http: httpx.Client, world: World
) -> None:
    headers = world.headers("software")
    body = scan(
        "odd_units",
        [],
        parameters={"gain": {"value": 5, "unit": "counts per gizmo"}, "frames": 3600},
    )
    assert http.post("/api/datasets", json=body, headers=headers).status_code == 201

    def names(condition: str) -> set[str]:
        page = http.get("/api/datasets", params={"param": condition}, headers=headers).json()
        return {d["name"] for d in page["items"]}

    assert names("gain > 4 counts per gizmo") == {"odd_units"}
    assert names("gain > 6 counts per gizmo") == set()
    assert names("gain > 4 volts") == set()
    assert names("frames >= 3600") == {"odd_units"}
    assert names("frames < 3600") == set()
    found = http.get("/api/datasets", params={"q": "odd_units gain"}, headers=headers).json()
    assert [d["name"] for d in found["items"]] == ["odd_units"]


def test_an_unknown_proposal_gets_a_placeholder_on_the_named_beamline(
    http: httpx.Client, world: World, engine: Engine
) -> None:
    body = {**scan("early", [{"path": "a.h5"}]), "investigation": "MX-9999", "instrument": "ID23"}
    before = row_counts(engine)
    refused = http.post(
        "/api/datasets", json={**body, "instrument": "ID11"}, headers=world.headers("software")
    )
    assert refused.status_code == 403
    assert row_counts(engine) == before
    created = http.post("/api/datasets", json=body, headers=world.headers("software"))
    assert created.status_code == 201, created.text
    assert created.json()["investigation"] == "MX-9999"
    placeholder = http.get("/api/investigations/MX-9999").json()
    assert placeholder["placeholder"] is True
    assert placeholder["instrument"] == "ID23"
    assert placeholder["dataset_count"] == 1
    # The next dataset of that proposal lands in the same placeholder.
    second = {**body, "name": "later", "location": "/data/visitor/MX-9999/later"}
    assert (
        http.post("/api/datasets", json=second, headers=world.headers("staff")).status_code == 201
    )
    assert http.get("/api/investigations/MX-9999").json()["dataset_count"] == 2
    with engine.connect() as connection:
        codes = connection.scalars(
            text("SELECT code FROM investigation WHERE placeholder ORDER BY code")
        ).all()
    assert codes == ["MX-9999"]


def test_paths_and_values_with_copy_special_characters_come_back_exactly(
    http: httpx.Client, world: World
) -> None:
    # PostgreSQL registration writes COPY text itself: tabs, newlines, carriage returns
    # and backslashes must be escaped, a missing checksum must stay missing.
    files = [
        {"path": "plain/frame_000001.h5", "size": 1, "checksum": "xxh64:00ff"},
        {"path": "tab\tin/name.h5", "size": 2, "checksum": None},
        {"path": "line\nbreak\r\n.h5", "size": 3, "checksum": ""},
        {"path": "back\\slash\\N.h5", "size": 4, "checksum": "\\N"},
        {"path": "\\N", "size": 5, "checksum": "tab\tsum"},
        {"path": "Åbo/ünïcode 𝛌.h5", "size": 6},
    ]
    parameters = {
        "comment": "a\tb\\c\nd",
        "quoted": {"value": 'say "hi" \\ there', "unit": "a\\b"},
        "null_like": "\\N",
        "angle": {"value": -0.0, "unit": "deg"},
    }
    created = http.post(
        "/api/datasets",
        json=scan("special", files, parameters=parameters),
        headers=world.headers("software"),
    )
    assert created.status_code == 201, created.text
    dataset = created.json()
    assert dataset["parameters"]["comment"] == {"value": "a\tb\\c\nd", "unit": None}
    assert dataset["parameters"]["quoted"] == parameters["quoted"]
    assert dataset["parameters"]["null_like"] == {"value": "\\N", "unit": None}
    assert dataset["parameters"]["angle"] == {"value": -0.0, "unit": "deg"}
    listed = http.get(
        f"/api/datasets/{dataset['id']}/files",
        params={"limit": 50},
        headers=world.headers("participant"),
    ).json()["items"]
    stored = {f["path"]: (f["size"], f["checksum"]) for f in listed}
    assert stored == {f["path"]: (f["size"], f.get("checksum")) for f in files}


def test_a_parameter_value_keeps_the_json_type_it_was_sent_with() -> None:
    body = {
        "investigation": "MX-1",
        "name": "n",
        "location": "/data/n",
        "parameters": {
            "float": 1.0,
            "int": 5,
            "bool": True,
            "text": "5",
            "list": [1, 2.5],
            "none": None,
            "with_unit": {"value": 1.5, "unit": "nm"},
        },
    }
    values = DatasetIn.model_validate_json(json.dumps(body)).parameters
    assert {name: type(value).__name__ for name, value in values.items()} == {
        "float": "float",
        "int": "int",
        "bool": "bool",
        "text": "str",
        "list": "list",
        "none": "NoneType",
        "with_unit": "ParameterIn",
    }
    assert values["float"] == 1.0 and values["list"] == [1, 2.5]
