"""Download tickets: a link that downloads without `Authorization`, for one path only."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from unittest import mock

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken
from fairbeam.access.security import token_digest
from fairbeam.db.base import utcnow
from tests.transfer.conftest import SIZES, Data
from tests.world import World


def ticket(http: httpx.Client, world: World, role: str, path: str, **extra: object) -> str:
    """The URL of a ticket ``role`` asked for."""
    response = http.post(
        "/api/downloads/ticket", json={"path": path, **extra}, headers=world.headers(role)
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    assert url.startswith(f"{path}?ticket=")
    return url


def test_file_by_ticket(http: httpx.Client, world: World, data: Data) -> None:
    file_id = data.closed.files["scan.h5"]
    url = ticket(http, world, "participant", f"/api/files/{file_id}/content")
    response = http.get(url)  # no Authorization header
    assert response.status_code == 200
    assert response.content == data.closed.bytes_of("scan.h5")
    # Ranges work through a ticket too, so a browser can resume.
    part = http.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data.closed.bytes_of("scan.h5")[10:20]


def test_ticket_opens_its_path_only(http: httpx.Client, world: World, data: Data) -> None:
    url = ticket(http, world, "participant", f"/api/files/{data.closed.files['scan.h5']}/content")
    signed = url.partition("?")[2]
    other = http.get(f"/api/files/{data.closed.files['notes.txt']}/content?{signed}")
    assert other.status_code == 401
    assert "ticket is not valid" in other.json()["detail"]
    forged = http.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
    assert forged.status_code == 401
    # A ticket does not open other routes, and cannot be asked for them.
    assert http.get(f"/api/datasets/{data.closed.dataset}?{signed}").status_code == 404
    refused = http.post(
        "/api/downloads/ticket",
        json={"path": "/api/users"},
        headers=world.headers("participant"),
    )
    assert refused.status_code == 422 and "not a download route" in refused.json()["detail"]


def test_ticket_follows_access(http: httpx.Client, world: World, data: Data) -> None:
    # Anyone logged in gets a ticket; the bytes still follow the data's access rules.
    url = ticket(http, world, "other_user", f"/api/files/{data.closed.files['scan.h5']}/content")
    assert http.get(url).status_code == 404
    anonymous = http.post("/api/downloads/ticket", json={"path": "/api/archive.zip"})
    assert anonymous.status_code == 401 and "log in" in anonymous.json()["detail"]


def test_ticket_expires_and_dies_with_its_token(
    http: httpx.Client, world: World, data: Data, session: Session
) -> None:
    url = ticket(http, world, "participant", f"/api/datasets/{data.closed.dataset}/manifest.txt")
    assert http.get(url).status_code == 200
    later = utcnow() + timedelta(minutes=6)
    with mock.patch("fairbeam.transfer.tickets.utcnow", return_value=later):
        expired = http.get(url)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_digest(world.tokens["participant"]))
        .values(revoked=True)
    )
    session.commit()
    assert http.get(url).status_code == 401


def test_selection_zip_by_ticket(http: httpx.Client, world: World, data: Data) -> None:
    url = ticket(http, world, "participant", "/api/archive.zip", datasets=[data.open.dataset])
    response = http.get(url)
    assert response.status_code == 200
    opened = zipfile.ZipFile(io.BytesIO(response.content))
    names = {info.filename.rsplit("open_scan/", 1)[-1] for info in opened.infolist()}
    assert set(SIZES) <= names
    # A selection needs its datasets in the ticket, and only a selection takes them.
    assert http.get("/api/archive.zip").status_code == 422
    mixed = http.post(
        "/api/downloads/ticket",
        json={"path": f"/api/datasets/{data.open.dataset}/archive.zip", "datasets": [1]},
        headers=world.headers("participant"),
    )
    assert mixed.status_code == 422
