"""Access for every role on real files, open data needing a login, and offline data."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile, Dataset
from fairbeam.policy.models import RestoreRequest
from tests.transfer.conftest import Data
from tests.world import ROLES, World

# What each role gets for the bytes of each dataset (files on disk).
EXPECTED = {
    "open": {"anonymous": 401, **{role: 200 for role in ROLES if role != "anonymous"}},
    "closed": {
        role: 200 if role in ("participant", "staff", "manager", "software") else 404
        for role in ROLES
    },
    "foreign": {role: 200 if role in ("other_staff", "manager") else 404 for role in ROLES},
}


def urls(data: Data, kind: str) -> list[str]:
    """Every download route of one dataset of ``data``."""
    stored = getattr(data, kind)
    return [
        f"/api/files/{stored.files['scan.h5']}/content",
        f"/api/datasets/{stored.dataset}/archive.zip",
        f"/api/datasets/{stored.dataset}/manifest.metalink",
        f"/api/datasets/{stored.dataset}/manifest.txt",
        f"/api/datasets/{stored.dataset}/download",
    ]


@pytest.mark.parametrize("kind", ["open", "closed", "foreign"])
def test_every_role_on_real_files(http: httpx.Client, world: World, data: Data, kind: str) -> None:
    for url in urls(data, kind):
        got = {role: http.get(url, headers=world.headers(role)).status_code for role in ROLES}
        assert got == EXPECTED[kind], url
    refused = http.get(urls(data, "open")[0])
    assert "login" in refused.json()["detail"] and refused.headers["www-authenticate"] == "Bearer"


def test_offline_data_answers_409_naming_the_restore(
    http: httpx.Client, world: World, data: Data, session: Session
) -> None:
    session.execute(
        update(Datafile).where(Datafile.id == data.open.files["scan.h5"]).values(tier="archive")
    )
    session.execute(
        update(Dataset).where(Dataset.id == data.open.dataset).values(storage_state="archived")
    )
    session.commit()
    headers = world.headers("participant")
    for url in urls(data, "open")[:4] + ["/api/investigations/MX-0900/archive.zip"]:
        response = http.get(url, headers=headers)
        assert response.status_code == 409, url
        detail = response.json()["detail"]
        # The download queued a restore (one for all these downloads) and names it.
        request = session.scalars(select(RestoreRequest)).one()
        assert f"restore request {request.id}" in detail and "archive" in detail
        assert f"GET /api/restores/{request.id}" in detail
    # Another file of the dataset, still online, is served.
    online = http.get(f"/api/files/{data.open.files['notes.txt']}/content", headers=headers)
    assert online.status_code == 200
    # Who may not see the data still gets 404, not a hint that it exists.
    foreign = world.headers("other_staff")
    session.execute(
        update(Datafile).where(Datafile.dataset_id == data.closed.dataset).values(tier="archive")
    )
    session.commit()
    assert http.get(urls(data, "closed")[1], headers=foreign).status_code == 404


def test_download_options_of_archived_data_queue_no_restore(
    http: httpx.Client, world: World, data: Data, session: Session
) -> None:
    """A dataset's page asks how it can be downloaded: for archived data that answers 409
    and says how to ask for a restore, but looking restores nothing."""
    session.execute(
        update(Datafile).where(Datafile.dataset_id == data.open.dataset).values(tier="archive")
    )
    session.execute(
        update(Dataset).where(Dataset.id == data.open.dataset).values(storage_state="archived")
    )
    session.commit()
    headers = world.headers("participant")
    for url in (
        f"/api/datasets/{data.open.dataset}/download",
        "/api/investigations/MX-0900/download",
    ):
        response = http.get(url, headers=headers)
        assert response.status_code == 409, url
        assert f"POST /api/datasets/{data.open.dataset}/restore" in response.json()["detail"]
    assert session.scalars(select(RestoreRequest)).all() == []


def test_missing_file_on_disk_is_404(http: httpx.Client, world: World, data: Data) -> None:
    (data.open.folder / "notes.txt").unlink()
    response = http.get(
        f"/api/files/{data.open.files['notes.txt']}/content", headers=world.headers("manager")
    )
    assert response.status_code == 404 and "not on disk" in response.json()["detail"]
