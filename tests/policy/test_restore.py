"""Restores on a live server: asked through the API, the client or a download, run by
the server's worker, followed until the data is online."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fairbeam.client import Client, Conflict, NotFound, RestoreFailed, RestoreTimeout
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.policy.archive import bundle_file, current_bundle
from fairbeam.policy.archive_batch import archive_dataset
from fairbeam.policy.models import RestoreRequest
from fairbeam.policy.restore import request_restore
from tests.conftest import LiveServer
from tests.policy.archive_data import OnDisk, audit_of, raw_dataset, state_of
from tests.world import World


def archived(session: Session, engine: Engine, settings: Settings, name: str) -> OnDisk:
    """A dataset of MX-1001 (alice's, embargoed) on the archive tier."""
    data = raw_dataset(session, settings, "MX-1001", name)
    assert archive_dataset(make_sessionmaker(engine), settings, data.dataset).status == "archived"
    assert data.on_disk() == {}
    return data


def test_client_restores_and_waits_until_online(
    server: LiveServer, world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    data = archived(session, engine, settings, "lyso_0101")
    with Client(server.url, world.tokens["participant"]) as client:
        assert client.dataset(data.dataset).storage_state == "archived"
        restore = client.restore(data.dataset, wait=True, timeout=60, poll=0.5)
        assert restore.status == "done" and restore.finished is not None
        assert data.on_disk() == data.files
        assert client.dataset(data.dataset).storage_state == "online"
        assert [r.id for r in client.restores()] == [restore.id]
        # The data is online now: asking again says so.
        with pytest.raises(Conflict, match="is online"):
            client.restore(data.dataset)
    (record,) = audit_of(session, data.dataset, "restore")
    assert record.detail["request"] == restore.id
    (asked,) = audit_of(session, data.dataset, "restore-request")
    assert asked.actor == "alice"


def test_restore_requests_through_the_api(
    http: httpx.Client, world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    data = archived(session, engine, settings, "lyso_0102")
    alice, bob = world.headers("participant"), world.headers("other_user")
    asked = http.post(f"/api/datasets/{data.dataset}/restore", headers=alice)
    assert asked.status_code == 202, asked.text
    body = asked.json()
    assert set(body) == {"id", "dataset", "status", "created", "started", "finished", "error"}
    assert body["dataset"] == data.dataset and body["status"] in ("queued", "running", "done")
    assert body["created"].endswith("Z") or "+00:00" in body["created"]
    url = f"/api/restores/{body['id']}"
    deadline = time.monotonic() + 30
    while http.get(url, headers=alice).json()["status"] != "done":
        assert time.monotonic() < deadline, "the worker did not restore within 30 s"
        time.sleep(0.1)
    assert data.on_disk() == data.files
    # Seen by its requester, the dataset's viewers and managers; 404 to others.
    for role, status in {"staff": 200, "manager": 200, "other_user": 404, "anonymous": 404}.items():
        assert http.get(url, headers=world.headers(role)).status_code == status, role
    assert http.get("/api/restores", headers=bob).json() == {"items": [], "next": None}
    mine = http.get("/api/restores", params={"status": "done"}, headers=alice).json()
    assert [item["id"] for item in mine["items"]] == [body["id"]]
    everything = http.get("/api/restores", headers=world.headers("manager")).json()
    assert [item["id"] for item in everything["items"]] == [body["id"]]
    bad = http.get("/api/restores", params={"status": "lost"}, headers=alice)
    assert bad.status_code == 422 and "queued, running, done, failed" in bad.json()["detail"]
    # Bad input: a dataset nobody has, an online one, one bob may not see.
    missing = http.post("/api/datasets/999999/restore", headers=alice)
    assert missing.status_code == 404 and missing.json()["detail"] == "dataset 999999 not found"
    online = http.post(f"/api/datasets/{world.closed_dataset}/restore", headers=alice)
    assert online.status_code == 409 and "nothing to restore" in online.json()["detail"]
    hidden = http.post(f"/api/datasets/{data.dataset}/restore", headers=bob)
    assert hidden.status_code == 404


def test_download_of_archived_data_queues_a_restore(
    http: httpx.Client, world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    data = archived(session, engine, settings, "lyso_0103")
    alice = world.headers("participant")
    zip_url = f"/api/datasets/{data.dataset}/archive.zip"
    refused = http.get(zip_url, headers=alice)
    assert refused.status_code == 409
    session.expire_all()
    request = session.scalars(
        select(RestoreRequest).where(RestoreRequest.dataset_id == data.dataset)
    ).one()
    detail = refused.json()["detail"]
    assert f"restore request {request.id}" in detail and f"/api/restores/{request.id}" in detail
    deadline = time.monotonic() + 30
    while state_of(session, data.dataset)[0] != "online":
        assert time.monotonic() < deadline, "the worker did not restore within 30 s"
        time.sleep(0.1)
    name = "lyso_0103.h5"
    files = http.get(f"/api/datasets/{data.dataset}/files", headers=alice).json()["items"]
    file_id = next(f["id"] for f in files if f["path"] == name)
    content = http.get(f"/api/files/{file_id}/content", headers=alice)
    assert content.status_code == 200 and content.content == data.files[name]


def test_requests_are_idempotent_and_failures_reported(
    server: LiveServer, world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    data = archived(session, engine, settings, "lyso_0104")
    alice = world.principals["participant"]
    # Lose the bundle (the tape is gone): the restore fails with a reason, nothing changes.
    bundle = current_bundle(session, data.dataset)
    assert bundle is not None
    bundle_file(settings, bundle).unlink()
    with Client(server.url, world.tokens["participant"]) as client:
        with pytest.raises(RestoreFailed, match="restore failed"):
            client.restore(data.dataset, wait=True, timeout=30, poll=0.2)
        with pytest.raises(NotFound):
            client.restore(999999)
    assert state_of(session, data.dataset) == ("archived", {"archive"})
    # Asked twice while one waits: the same request. (The server is stopped first, so
    # that its worker does not take the request.)
    server.stop()
    first = request_restore(session, alice, data.dataset)
    session.commit()
    again = request_restore(session, world.principals["manager"], data.dataset)
    assert again.id == first.id and again.status == "queued"


@asynccontextmanager
async def _no_background(app: Any) -> AsyncIterator[None]:
    yield


def test_waiting_gives_up_after_the_timeout(
    world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    # A server without its worker: the request stays queued; the wait ends, it goes on.
    data = archived(session, engine, settings, "lyso_0105")
    live = LiveServer(settings, engine)
    live.app.router.lifespan_context = _no_background
    live.start()
    try:
        with Client(live.url, world.tokens["participant"]) as client:
            with pytest.raises(RestoreTimeout, match="still queued after 1 s"):
                client.restore(data.dataset, wait=True, timeout=1, poll=0.2)
            assert [r.status for r in client.restores()] == ["queued"]
    finally:
        live.stop()
