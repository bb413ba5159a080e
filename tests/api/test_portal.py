"""The built portal at `/`: its files, index.html for the portal's own URLs, the API untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fairbeam.api.app import create_app
from fairbeam.config import Settings


def _client(portal_dir: Path) -> TestClient:
    return TestClient(create_app(Settings(database_url="sqlite://", portal_dir=portal_dir)))


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A portal build as `npm run build` lays it out."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>portal</title>")
    (dist / "assets" / "index-abc123.js").write_text("console.log('portal');")
    (dist / "columns.json").write_text('{"techniques": {}}')
    (tmp_path / "secret.txt").write_text("outside the build")
    return dist


def test_front_page_and_portal_urls_answer_index_html(build: Path) -> None:
    client = _client(build)
    for path in ("/", "/my-data", "/datasets/42", "/search?param=energy%20%3E%207%20keV"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<title>portal</title>" in response.text
        assert response.headers["cache-control"] == "no-cache"


def test_build_files_are_served_with_their_cache_policy(build: Path) -> None:
    client = _client(build)
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    config = client.get("/columns.json")
    assert config.json() == {"techniques": {}}
    assert config.headers["cache-control"] == "no-cache"


def test_nothing_outside_the_build_is_served(build: Path) -> None:
    client = _client(build)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        assert "outside the build" not in client.get(path).text, path


def test_api_keeps_its_own_answers(build: Path) -> None:
    client = _client(build)
    missing = client.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no such path"}
    assert client.post("/api/no-such-thing").status_code == 404
    assert client.delete("/api/health").status_code == 405
    assert client.post("/my-data").status_code == 404
    assert client.get("/api/health").json()["status"] == "ok"


def test_without_a_build_the_front_page_says_how_to_make_one(tmp_path: Path) -> None:
    client = _client(tmp_path / "nothing-here")
    page = client.get("/")
    assert page.status_code == 200
    assert "make install" in page.text
    assert "/api/docs" in page.text
    assert client.get("/my-data").status_code == 404
