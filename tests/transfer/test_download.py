"""The downloader: parallel fetches, resumption, skips, checksum failures, the command."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from fairbeam.cli.main import app
from fairbeam.client import Client
from fairbeam.transfer.download import target_path
from tests.conftest import LiveServer
from tests.transfer.conftest import SIZES, Data
from tests.world import World


@pytest.fixture
def client(server: LiveServer, world: World) -> Client:
    """The participant's client of the live server."""
    return Client(server.url, world.tokens["participant"])


def test_downloads_then_skips(client: Client, data: Data, tmp_path: Path) -> None:
    report = client.download(data.closed.dataset, tmp_path / "out", parallel=3)
    assert report.ok and sorted(report.fetched) == sorted(f"closed_scan/{p}" for p in SIZES)
    for path in SIZES:
        assert (tmp_path / "out" / "closed_scan" / path).read_bytes() == data.closed.bytes_of(path)
    assert report.bytes == sum(SIZES.values())
    again = client.download(data.closed.dataset, tmp_path / "out")
    assert again.ok and len(again.skipped) == len(SIZES) and not again.fetched


def test_resumes_a_partial_file(client: Client, data: Data, tmp_path: Path) -> None:
    whole = data.open.bytes_of("scan.h5")
    part = tmp_path / "open_scan" / "scan.h5.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(whole[:123_456])
    report = client.download(data.open.dataset, tmp_path)
    assert report.ok and report.resumed == ["open_scan/scan.h5"]
    assert (tmp_path / "open_scan" / "scan.h5").read_bytes() == whole
    assert not part.exists()


def test_resumption_after_a_dropped_connection(
    http: httpx.Client, world: World, data: Data
) -> None:
    url = f"/api/files/{data.open.files['scan.h5']}/content"
    headers = world.headers("participant")
    received = b""
    with http.stream("GET", url, headers=headers) as response:
        for chunk in response.iter_raw(4096):
            received += chunk
            if len(received) >= 50_000:
                break  # the connection is closed here, mid-body
    etag = response.headers["etag"]
    rest = http.get(url, headers={**headers, "range": f"bytes={len(received)}-", "if-range": etag})
    assert rest.status_code == 206
    assert received + rest.content == data.open.bytes_of("scan.h5")


def test_a_corrupt_file_is_reported(client: Client, data: Data, tmp_path: Path) -> None:
    # The file on the server no longer has its catalogue checksum (same size, other bytes).
    path = data.closed.folder / "scan.h5"
    path.write_bytes(bytes(len(path.read_bytes())))
    report = client.download(data.closed.dataset, tmp_path)
    assert list(report.failed) == ["closed_scan/scan.h5"]
    assert "checksum" in report.failed["closed_scan/scan.h5"]
    assert not (tmp_path / "closed_scan" / "scan.h5").exists()
    assert len(report.fetched) == len(SIZES) - 1


def test_a_corrupt_local_copy_is_fetched_again(client: Client, data: Data, tmp_path: Path) -> None:
    client.download(data.open.dataset, tmp_path)
    local = tmp_path / "open_scan" / "notes.txt"
    local.write_bytes(b"y" * local.stat().st_size)
    report = client.download(data.open.dataset, tmp_path)
    assert report.fetched == ["open_scan/notes.txt"]
    assert local.read_bytes() == data.open.bytes_of("notes.txt")


def test_command_line(server: LiveServer, world: World, data: Data, tmp_path: Path) -> None:
    runner = CliRunner()
    token = world.tokens["participant"] or ""
    url = f"{server.url}/investigations/{data.released_code}"
    result = runner.invoke(
        app, ["download", url, "--to", str(tmp_path), "--token", token, "--json", "--parallel", "2"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["fetched"]) == len(SIZES) and report["failed"] == {}
    target = tmp_path / data.released_code / "open_scan" / "scan.h5"
    assert target.read_bytes() == data.open_too.bytes_of("scan.h5")
    text = runner.invoke(app, ["download", url, "--to", str(tmp_path), "--token", token])
    assert text.exit_code == 0 and f"{len(SIZES)} already there" in text.output
    anonymous = runner.invoke(
        app, ["download", str(data.open.dataset), "--url", server.url, "--json"]
    )
    assert anonymous.exit_code == 1 and "login" in json.loads(anonymous.output)["detail"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("12", (None, "/api/datasets/12")),
        ("MX-1001", (None, "/api/investigations/MX-1001")),
        ("http://host:8000/datasets/12", ("http://host:8000", "/api/datasets/12")),
        (
            "https://h/portal/investigations/MX-1?x=1",
            ("https://h/portal", "/api/investigations/MX-1"),
        ),
        ("http://h/api/datasets/7/archive.zip", ("http://h", "/api/datasets/7")),
    ],
)
def test_targets(target: str, expected: tuple[str | None, str]) -> None:
    assert target_path(target) == expected


def test_a_doi_says_what_to_give_instead() -> None:
    with pytest.raises(ValueError, match="DOI"):
        target_path("10.15151/ESRF-ES-123456")
