"""`open_data_needs_login`: by default open data needs a registered identity to be
downloaded; a facility may let anonymous visitors download it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fairbeam.config import Settings
from tests.conftest import LiveServer
from tests.policy.archive_data import raw_dataset
from tests.world import World


@pytest.fixture
def open_server(settings: Settings, engine: Engine) -> Iterator[LiveServer]:
    live = LiveServer(settings.model_copy(update={"open_data_needs_login": False}), engine)
    live.start()
    yield live
    live.stop()


def test_anonymous_download_of_open_data_when_the_facility_allows_it(
    world: World, session: Session, settings: Settings, open_server: LiveServer
) -> None:
    on_disk = raw_dataset(session, settings, "MX-0900", "open_scan")
    closed = raw_dataset(session, settings, "MX-1001", "closed_scan")
    with httpx.Client(base_url=open_server.url, timeout=30) as http:
        files = http.get(f"/api/datasets/{on_disk.dataset}/files").json()["items"]
        path = next(f for f in files if f["path"] == "open_scan.h5")
        got = http.get(f"/api/files/{path['id']}/content")
        assert got.status_code == 200
        assert got.content == on_disk.files["open_scan.h5"]
        zipped = http.get(f"/api/datasets/{on_disk.dataset}/archive.zip")
        assert zipped.status_code == 200
        # Closed data stays what anonymous callers may not see.
        assert http.get(f"/api/datasets/{closed.dataset}/archive.zip").status_code == 404


def test_open_data_needs_a_login_by_default(
    world: World, session: Session, settings: Settings, http: httpx.Client
) -> None:
    on_disk = raw_dataset(session, settings, "MX-0900", "open_scan")
    refused = http.get(f"/api/datasets/{on_disk.dataset}/archive.zip")
    assert refused.status_code == 401
    assert "needs a login" in refused.json()["detail"]
