"""Downloads in Chromium: a file from the file list, byte for byte; a zip of datasets
ticked in the investigation's table; "log in to download" for anonymous visitors."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fairbeam.client import Client
from tests.portal.conftest import Portal

pytestmark = pytest.mark.browser

USER = "aferreira"


def log_in(page: Page, portal: Portal, username: str) -> None:
    """Log in through the form and wait until the header shows the account."""
    page.goto(f"{portal.url}/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(portal.password(username))
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-state")).to_contain_text(
        portal.account(username)["full_name"]
    )


def online(portal: Portal, dataset: dict[str, Any]) -> bool:
    """Whether every file of the dataset is on disk (the demo writes only some); data the
    demo's policy passes archived is restored first, as its owner would."""
    if dataset["storage_state"] == "archived":
        portal.get("/api/me", USER)  # logs in
        with Client(portal.url, token=portal.tokens[USER]) as client:
            client.restore(dataset["id"], wait=True, timeout=120, poll=0.5)
    elif dataset["storage_state"] != "online":
        return False
    files = portal.api(f"/api/datasets/{dataset['id']}/files", USER, limit=50)["items"]
    codes = {portal.get(f"/api/files/{f['id']}/content", USER).status_code for f in files}
    return bool(files) and codes == {200}


def datasets_on_disk(portal: Portal) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An investigation of the user with a raw and a processed dataset on disk."""
    for inv in portal.api("/api/investigations", USER, scope="mine", limit=50)["items"]:
        found = []
        for kind in ("raw", "processed"):
            listed = portal.api(
                "/api/datasets", USER, investigation=str(inv["id"]), type=kind, limit=50
            )["items"]
            found += [d for d in listed if online(portal, d)][:1]
        if len(found) == 2 and found[0]["technique"] == found[1]["technique"]:
            return dict(inv), found
    pytest.fail("the demo has no investigation with datasets whose files are on disk")


def test_file_download_from_the_list(page: Page, portal: Portal, tmp_path: Path) -> None:
    _, online = datasets_on_disk(portal)
    dataset = online[0]
    files = portal.api(f"/api/datasets/{dataset['id']}/files", USER, limit=5)["items"]
    wanted = files[0]
    log_in(page, portal, USER)
    page.goto(f"{portal.url}/datasets/{dataset['id']}")
    row = page.locator(f'[data-testid="file-row"][data-id="{wanted["id"]}"]')
    button = row.get_by_test_id("file-download")
    expect(button).to_have_attribute("aria-label", f"Download {wanted['path']} ({_size(wanted)})")
    with page.expect_download() as started:
        button.click()
    target = tmp_path / "file"
    started.value.save_as(target)
    expected = portal.get(f"/api/files/{wanted['id']}/content", USER).content
    assert target.read_bytes() == expected
    assert len(expected) == wanted["size"]
    # The dataset's own zip shows its size before the click.
    expect(page.get_by_test_id("download-zip")).to_contain_text("files")


def test_selection_zip(page: Page, portal: Portal, tmp_path: Path) -> None:
    inv, online = datasets_on_disk(portal)
    chosen = online[:2]
    log_in(page, portal, USER)
    page.goto(f"{portal.url}/investigations/{inv['id']}")
    # The table shows one type at a time; the selection stays across them.
    for dataset in chosen:
        types = page.get_by_role("group", name="Type")
        types.get_by_role("button", name=re.compile(f"^{dataset['type']}")).click()
        row = page.locator(f'[data-testid="dataset-row"][data-id="{dataset["id"]}"]')
        row.get_by_test_id("dataset-select").check()
    expect(page.get_by_test_id("selection-size")).to_contain_text("2 selected")
    with page.expect_download() as started:
        page.get_by_test_id("selection-download").click()
    target = tmp_path / "selection.zip"
    started.value.save_as(target)
    body = target.read_bytes()
    opened = zipfile.ZipFile(io.BytesIO(body))
    assert opened.testzip() is None
    for dataset in chosen:
        assert any(dataset["name"] in name for name in opened.namelist()), opened.namelist()
    files = sum(d["file_count"] for d in chosen)
    assert len(opened.infolist()) == files


def test_anonymous_sees_log_in_to_download(page: Page, portal: Portal) -> None:
    released = portal.api("/api/investigations", scope="open", limit=5)["items"]
    assert released, "the demo has released investigations"
    listed = portal.api("/api/datasets", investigation=str(released[0]["id"]), limit=1)["items"]
    page.goto(f"{portal.url}/datasets/{listed[0]['id']}")
    expect(page.get_by_test_id("login-to-download").first).to_be_visible()
    expect(page.get_by_test_id("file-download")).to_have_count(0)


def _size(datafile: dict[str, Any]) -> str:
    """The size as the portal writes it (decimal units)."""
    value = float(datafile["size"])
    units = ["B", "kB", "MB", "GB", "TB"]
    unit = 0
    while value >= 1000 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    digits = 0 if unit == 0 or value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {units[unit]}"
