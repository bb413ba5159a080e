"""Statistics over time: datasets, files and volume per month and beamline."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.db.engine import alembic_config
from tests.world import World

# name, investigation, start, file sizes
SCANS = [
    ("a1", "MX-1001", datetime(2024, 1, 31, 23, 59, tzinfo=UTC), [100, 200]),
    ("a2", "MX-1001", datetime(2024, 1, 2, tzinfo=UTC), [50]),
    ("a3", "MX-0900", datetime(2024, 2, 1, tzinfo=UTC), [7, 7, 7]),
    ("b1", "HC-2000", datetime(2024, 1, 15, tzinfo=UTC), [1000]),
    ("b2", "HC-2000", datetime(2025, 12, 1, tzinfo=UTC), [1, 2]),
]
INSTRUMENT = {"MX-1001": "ID23", "MX-0900": "ID23", "HC-2000": "ID11"}


def _register(session: Session, world: World, scans: list[Any]) -> None:
    register_datasets(
        session,
        world.principals["manager"],
        [
            DatasetIn(
                investigation=code,
                name=name,
                location=f"/data/{code}/{name}",
                start=start,
                files=[{"path": f"f{i}.h5", "size": size} for i, size in enumerate(sizes)],
            )
            for name, code, start, sizes in scans
        ],
    )
    session.commit()


def _expected(world_start: datetime, scans: list[Any], by: str) -> list[dict[str, Any]]:
    """What the timeline should say, counted here from the scans and the world's three."""
    totals: dict[tuple[str, str], Counter[str]] = {}
    rows = [(code, world_start, [1024, 2048]) for code in INSTRUMENT]
    rows += [(code, start, sizes) for _, code, start, sizes in scans]
    for code, start, sizes in rows:
        period = start.strftime("%Y-%m" if by == "month" else "%Y")
        counter = totals.setdefault((period, INSTRUMENT[code]), Counter())
        counter.update(datasets=1, files=len(sizes), volume_bytes=sum(sizes))
    return [
        {"period": period, "instrument": instrument, **counter}
        for (period, instrument), counter in sorted(totals.items())
    ]


def _timeline(http: httpx.Client, world: World, **params: str) -> dict[str, Any]:
    response = http.get("/api/stats/timeline", params=params, headers=world.headers("staff"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _world_start(http: httpx.Client, world: World) -> datetime:
    dataset = http.get(f"/api/datasets/{world.closed_dataset}", headers=world.headers("manager"))
    return datetime.fromisoformat(dataset.json()["start"])


def test_datasets_and_volume_per_month_and_beamline(
    http: httpx.Client, world: World, session: Session
) -> None:
    _register(session, world, SCANS)
    start = _world_start(http, world)

    by_month = _timeline(http, world)
    assert by_month["by"] == "month"
    assert by_month["items"] == _expected(start, SCANS, "month")
    assert _timeline(http, world, by="year")["items"] == _expected(start, SCANS, "year")
    only_id11 = _timeline(http, world, instrument="ID11")
    assert only_id11["instrument"] == "ID11"
    assert only_id11["items"] == [
        i for i in _expected(start, SCANS, "month") if i["instrument"] == "ID11"
    ]


def test_timeline_adds_up_to_the_statistics(
    http: httpx.Client, world: World, session: Session
) -> None:
    _register(session, world, SCANS)
    stats = http.get("/api/stats", headers=world.headers("manager")).json()
    items = _timeline(http, world)["items"]
    assert sum(i["datasets"] for i in items) == stats["datasets"] == 8
    assert sum(i["files"] for i in items) == stats["files"]
    assert sum(i["volume_bytes"] for i in items) == stats["volume_bytes"]
    assert len({i["instrument"] for i in items}) == stats["instruments"]


def test_a_dataset_registered_again_moves_to_its_new_month(
    http: httpx.Client, world: World, session: Session
) -> None:
    _register(session, world, SCANS)
    moved = [("a1", "MX-1001", datetime(2024, 3, 1, tzinfo=UTC), [100, 200])]
    _register(session, world, moved)
    scans = [s for s in SCANS if s[0] != "a1"] + moved
    assert _timeline(http, world)["items"] == _expected(_world_start(http, world), scans, "month")


def test_the_migration_counts_existing_datasets_again(
    http: httpx.Client, world: World, session: Session, engine: Engine
) -> None:
    _register(session, world, SCANS)
    before = _timeline(http, world)["items"]
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")  # undoes 0004 alone, which merged 0002 and 0003
        command.upgrade(config, "heads")
    assert _timeline(http, world)["items"] == before


def test_unknown_period_or_beamline(http: httpx.Client, world: World) -> None:
    headers = world.headers("manager")
    week = http.get("/api/stats/timeline", params={"by": "week"}, headers=headers)
    assert week.status_code == 422
    assert week.json() == {"detail": "by 'week' is not known; use one of month, year"}
    unknown = http.get("/api/stats/timeline", params={"instrument": "BM99"}, headers=headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "instrument 'BM99' not found"}


def test_users_may_not_read_statistics(http: httpx.Client, world: World) -> None:
    response = http.get("/api/stats/timeline", headers=world.headers("participant"))
    assert response.status_code == 403
    assert response.json() == {"detail": "only beamline staff and managers may do this"}
