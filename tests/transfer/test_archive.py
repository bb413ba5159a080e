"""Streamed zips: every member's bytes and CRC, `unzip -t`, exact length, resumption."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.config import Settings
from tests.transfer.conftest import SIZES, Data
from tests.world import World


def archive(http: httpx.Client, world: World, url: str, **headers: str) -> httpx.Response:
    """A zip as the participant asks for it."""
    return http.get(url, headers={**world.headers("participant"), **headers})


def check_members(body: bytes, data: Data, prefix: str) -> zipfile.ZipFile:
    """The zip holds every file of the open dataset byte for byte, with good CRCs."""
    opened = zipfile.ZipFile(io.BytesIO(body))
    assert opened.testzip() is None
    names = {f"{prefix}{path}" for path in SIZES}
    assert {info.filename for info in opened.infolist()} >= names
    for path, size in SIZES.items():
        info = opened.getinfo(f"{prefix}{path}")
        assert (info.file_size, info.compress_type) == (size, zipfile.ZIP_STORED)
        assert opened.read(info) == data.open.bytes_of(path)
    return opened


def unzip_test(body: bytes, tmp_path: Path) -> str:
    """What `unzip -t` says of the archive (it must say no errors)."""
    if shutil.which("unzip") is None:
        pytest.fail("unzip is not installed: `make test` installs it (apt-get install unzip)")
    target = tmp_path / "archive.zip"
    target.write_bytes(body)
    result = subprocess.run(["unzip", "-t", str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout
    return result.stdout


def test_dataset_zip(http: httpx.Client, world: World, data: Data, tmp_path: Path) -> None:
    response = archive(http, world, f"/api/datasets/{data.open.dataset}/archive.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["content-disposition"].endswith("open_scan.zip")
    check_members(response.content, data, "open_scan/")
    unzip_test(response.content, tmp_path)
    # The same archive again is the same bytes: its length and ranges can be trusted.
    again = archive(http, world, f"/api/datasets/{data.open.dataset}/archive.zip")
    assert again.content == response.content and again.headers["etag"] == response.headers["etag"]


def test_investigation_and_selection_zips(
    http: httpx.Client, world: World, data: Data, tmp_path: Path
) -> None:
    response = archive(http, world, f"/api/investigations/{data.released_code}/archive.zip")
    assert response.status_code == 200
    opened = zipfile.ZipFile(io.BytesIO(response.content))
    assert opened.testzip() is None
    for path in SIZES:
        assert opened.read(f"MX-0950/open_scan/{path}") == data.open_too.bytes_of(path)
    unzip_test(response.content, tmp_path)
    # The world's released investigation has a dataset whose files are not on disk.
    assert archive(http, world, "/api/investigations/MX-0900/archive.zip").status_code == 404
    chosen = http.post(
        "/api/archive.zip",
        json={"datasets": [data.open.dataset, data.closed.dataset]},
        headers=world.headers("participant"),
    )
    assert chosen.status_code == 200
    opened = check_members(chosen.content, data, "open_scan/")
    assert opened.read("closed_scan/scan.h5") == data.closed.bytes_of("scan.h5")
    unzip_test(chosen.content, tmp_path)
    refused = http.post(
        "/api/archive.zip",
        json={"datasets": [data.open.dataset, data.foreign.dataset]},
        headers=world.headers("participant"),
    )
    assert refused.status_code == 404


@pytest.mark.parametrize("cut", [1, 29, 30, 100, 70_000, 300_200, -200, -23, -1])
def test_zip_resumes_at_any_byte(http: httpx.Client, world: World, data: Data, cut: int) -> None:
    url = f"/api/datasets/{data.open.dataset}/archive.zip"
    whole = archive(http, world, url)
    offset = cut if cut > 0 else len(whole.content) + cut
    rest = archive(
        http, world, url, range=f"bytes={offset}-", **{"if-range": whole.headers["etag"]}
    )
    assert rest.status_code == 206
    assert (
        rest.headers["content-range"]
        == f"bytes {offset}-{len(whole.content) - 1}/{len(whole.content)}"
    )
    assert rest.content == whole.content[offset:]
    middle = archive(http, world, url, range=f"bytes={offset // 2}-{offset}")
    assert middle.content == whole.content[offset // 2 : offset + 1]


def test_zip_range_computes_crcs_it_did_not_stream(
    http: httpx.Client, world: World, data: Data
) -> None:
    url = f"/api/datasets/{data.open.dataset}/archive.zip"
    length = int(archive(http, world, url).headers["content-length"])
    # Edit a file (same size) so no remembered CRC holds: the tail must be recomputed.
    path = data.open.folder / "scan.h5"
    changed = bytes(reversed(path.read_bytes()))
    path.write_bytes(changed)
    whole = archive(http, world, url)
    assert len(whole.content) == length
    tail = archive(http, world, url, range="bytes=-2000")
    assert tail.content == whole.content[-2000:]
    assert zipfile.ZipFile(io.BytesIO(whole.content)).read("open_scan/scan.h5") == changed


def test_zip_416_and_conditions(http: httpx.Client, world: World, data: Data) -> None:
    url = f"/api/datasets/{data.open.dataset}/archive.zip"
    whole = archive(http, world, url)
    length = len(whole.content)
    beyond = archive(http, world, url, range=f"bytes={length}-")
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{length}"
    assert archive(http, world, url, **{"if-none-match": whole.headers["etag"]}).status_code == 304
    stale = archive(http, world, url, range="bytes=10-", **{"if-range": '"zip-old"'})
    assert stale.status_code == 200 and stale.content == whole.content


def test_zip64_counts_beyond_65535_members(
    http: httpx.Client, world: World, session: Session, settings: Settings, tmp_path: Path
) -> None:
    folder = settings.data_roots[0] / "MX-1001" / "many"
    count = 66_000
    for index in range(count):
        sub = folder / f"p{index // 1000:02d}"
        if index % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"f{index:05d}").write_bytes(bytes([index % 251]))
    files = [{"path": f"p{i // 1000:02d}/f{i:05d}", "size": 1} for i in range(count)]
    item = DatasetIn(investigation="MX-1001", name="many", location=str(folder), files=files)
    (registered,) = register_datasets(session, world.principals["manager"], [item])
    session.commit()
    response = archive(http, world, f"/api/datasets/{registered.id}/archive.zip")
    assert int(response.headers["content-length"]) == len(response.content)
    opened = zipfile.ZipFile(io.BytesIO(response.content))
    assert len(opened.infolist()) == count
    assert opened.read("many/p65/f65999") == bytes([65_999 % 251])
    assert opened.testzip() is None
    assert f"No errors detected in compressed data of {tmp_path}" in unzip_test(
        response.content, tmp_path
    )
