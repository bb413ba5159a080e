"""Metalink 4 checked against RFC 5854's structure, path lists, and download options."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import httpx
import pytest

from fairbeam.config import Settings
from tests.transfer.conftest import SIZES, Data
from tests.world import World

NS = "{urn:ietf:params:xml:ns:metalink}"
# RFC 5854 §4.1: the elements each parent may hold, and how many times at most.
CHILDREN = {
    "metalink": {"file": None, "generator": 1, "origin": 1, "published": 1, "updated": 1},
    "file": {
        "copyright": 1, "description": 1, "hash": None, "identity": 1, "language": None,
        "logo": 1, "metaurl": None, "os": None, "pieces": None, "publisher": 1,
        "signature": 1, "size": 1, "url": None, "version": 1,
    },
}  # fmt: skip
HASH_TYPES = {"md5", "sha-1", "sha-224", "sha-256", "sha-384", "sha-512"}
DATE = "%Y-%m-%dT%H:%M:%SZ"


def check_metalink(text: bytes) -> list[ET.Element]:
    """Fail unless ``text`` is a Metalink 4 document as RFC 5854 §4 describes it."""
    root = ET.fromstring(text)
    assert root.tag == f"{NS}metalink"
    files = check_children(root, "metalink")
    assert files, "metalink:metalink holds at least one metalink:file"
    datetime.strptime(root.findtext(f"{NS}published", ""), DATE)
    names = set()
    for node in files:
        name = node.get("name", "")
        # §4.1.2.1: a relative path, no `..`, no leading slash.
        assert name and not name.startswith("/") and ".." not in name.split("/"), name
        assert name not in names
        names.add(name)
        check_children(node, "file")
        size = node.findtext(f"{NS}size")
        assert size is not None and re.fullmatch(r"\d+", size)
        assert node.findall(f"{NS}url") or node.findall(f"{NS}metaurl"), "a file needs a URL"
        for url in node.findall(f"{NS}url"):
            assert re.match(r"https?://", url.text or "") and int(url.get("priority", "1")) >= 1
        for digest in node.findall(f"{NS}hash"):
            assert digest.get("type") in HASH_TYPES
            assert re.fullmatch(r"[0-9a-f]+", digest.text or "")
    return files


def check_children(node: ET.Element, kind: str) -> list[ET.Element]:
    """Metalink children of ``node`` are the RFC's, each within its count; returns files."""
    counts: dict[str, int] = {}
    for child in node:
        if not child.tag.startswith(NS):
            continue  # §4.2: elements of other namespaces are extensions
        local = child.tag.removeprefix(NS)
        assert local in CHILDREN[kind], f"metalink:{local} may not be in metalink:{kind}"
        counts[local] = counts.get(local, 0) + 1
        most = CHILDREN[kind][local]
        assert most is None or counts[local] <= most, f"more than {most} metalink:{local}"
    return node.findall(f"{NS}file")


def test_dataset_metalink(http: httpx.Client, world: World, data: Data) -> None:
    for stored, algorithm in ((data.open, "xxh3"), (data.closed, "sha256")):
        response = http.get(
            f"/api/datasets/{stored.dataset}/manifest.metalink",
            headers=world.headers("participant"),
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/metalink4+xml"
        files = check_metalink(response.content)
        by_name = {node.get("name"): node for node in files}
        name = stored.folder.name
        assert set(by_name) == {f"{name}/{path}" for path in SIZES}
        node = by_name[f"{name}/scan.h5"]
        assert node.findtext(f"{NS}size") == str(SIZES["scan.h5"])
        url = node.findtext(f"{NS}url") or ""
        fetched = http.get(url, headers=world.headers("participant"))
        assert fetched.content == stored.bytes_of("scan.h5")
        if algorithm == "sha256":
            assert fetched.headers["x-checksum"] == f"sha256:{node.findtext(f'{NS}hash')}"
        else:
            assert node.find(f"{NS}hash") is None
            extension = node.findtext("{https://fairbeam.dev/ns/metalink}checksum")
            assert extension == fetched.headers["x-checksum"]


def test_investigation_metalink_and_paths(http: httpx.Client, world: World, data: Data) -> None:
    headers = world.headers("other_user")
    code = data.released_code
    files = check_metalink(
        http.get(f"/api/investigations/{code}/manifest.metalink", headers=headers).content
    )
    assert {node.get("name") for node in files} == {f"{code}/open_scan/{p}" for p in SIZES}
    paths = http.get(f"/api/investigations/{code}/manifest.txt", headers=headers)
    assert paths.status_code == 200 and paths.headers["content-type"].startswith("text/plain")
    assert sorted(paths.text.splitlines()) == sorted(f"{code}/open_scan/{p}" for p in SIZES)
    one = http.get(f"/api/datasets/{data.open.dataset}/manifest.txt", headers=headers)
    assert sorted(one.text.splitlines()) == sorted(f"MX-0900/open_scan/{p}" for p in SIZES)


def test_download_options(http: httpx.Client, world: World, data: Data) -> None:
    options = http.get(
        f"/api/datasets/{data.open.dataset}/download", headers=world.headers("participant")
    )
    body = options.json()
    assert body["files"] == len(SIZES) and body["size"] == sum(SIZES.values())
    assert body["large"] is False and body["globus"] is None
    assert body["zip"].endswith(f"/api/datasets/{data.open.dataset}/archive.zip")
    assert body["command"].startswith(f"fairbeam download {data.open.dataset} --url http://")


@pytest.fixture
def globus(settings: Settings) -> Settings:
    """A facility with a Globus endpoint, where anything above 1 kB is large."""
    settings.globus_url = "https://app.globus.org/file-manager?origin_id=abc&origin_path=/{path}"
    settings.download_large_bytes = 1000
    return settings


def test_large_downloads_link_to_globus(
    globus: Settings, http: httpx.Client, world: World, data: Data
) -> None:
    body = http.get(
        f"/api/investigations/{data.released_code}/download", headers=world.headers("staff")
    ).json()
    assert body["large"] is True
    assert body["globus"].endswith("origin_path=/MX-0950/open_scan")
