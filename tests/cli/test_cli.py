"""The real `fairbeam` console script, run as a subprocess against this test's catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

FAIRBEAM = Path(sys.executable).parent / "fairbeam"


class Fairbeam:
    """Runs `fairbeam ARGS...` with FAIRBEAM_DATABASE_URL and FAIRBEAM_VAR set."""

    def __init__(self, database_url: str, var: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRBEAM_")}
        self.env |= {"FAIRBEAM_DATABASE_URL": database_url, "FAIRBEAM_VAR": str(var)}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FAIRBEAM), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=240,
            stdin=subprocess.DEVNULL,
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def fairbeam(database_url: str, tmp_path: Path) -> Fairbeam:
    """The command on this test's own catalogue, with var/ in tmp_path."""
    return Fairbeam(database_url, tmp_path / "var")


def _one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_db_upgrade_is_idempotent(fairbeam: Fairbeam) -> None:
    for _ in range(2):
        result = fairbeam("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout


def test_db_upgrade_creates_a_fresh_sqlite_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "fairbeam.db"
    path.parent.mkdir()
    fresh = Fairbeam(f"sqlite:///{path}", tmp_path / "var")
    assert fresh("db", "upgrade").returncode == 0
    assert fresh("db", "upgrade").returncode == 0
    assert path.stat().st_size > 0
    assert fresh.json("user", "add", "first", "--password", "first-password")["id"] == 1


def test_user_add(fairbeam: Fairbeam) -> None:
    result = fairbeam("user", "add", "alice", "--password", "alice-password")
    assert result.returncode == 0, result.stderr
    assert "created user alice" in result.stdout
    data = fairbeam.json("user", "add", "bob", "--full-name", "Bob Builder")
    assert data["username"] == "bob" and data["role"] == "user"


def test_user_add_bad_input(fairbeam: Fairbeam) -> None:
    fairbeam("user", "add", "alice", "--password", "alice-password")
    _one_line_error(fairbeam("user", "add", "alice"), "'alice' already exists")
    _one_line_error(fairbeam("user", "add", "bad name!"), "username", "not valid")
    _one_line_error(fairbeam("user", "add", "carol", "--password", "short"), "8 characters")
    _one_line_error(
        fairbeam("user", "add", "stella", "--role", "staff", "--instrument", "ID99"),
        "'ID99' does not exist",
    )
    as_json = fairbeam("user", "add", "alice", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"detail": "user 'alice' already exists"}
    usage = fairbeam("user", "add", "dave", "--role", "wizard")
    assert usage.returncode == 2 and "wizard" in usage.stderr


def test_token_create(fairbeam: Fairbeam, http: httpx.Client) -> None:
    fairbeam("user", "add", "alice", "--password", "alice-password")
    data = fairbeam.json("token", "create", "alice")
    assert data["username"] == "alice" and len(data["token"]) > 20
    me = http.get("/api/me", headers={"Authorization": f"Bearer {data['token']}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"
    plain = fairbeam("token", "create", "alice")
    assert plain.returncode == 0 and plain.stdout.strip() != data["token"]
    _one_line_error(fairbeam("token", "create", "nobody"), "'nobody' does not exist")


def test_demo(fairbeam: Fairbeam, tmp_path: Path) -> None:
    data = fairbeam.json("demo", "--size", "small")
    assert data["skipped"] is False
    assert data["investigations"] == 40 and data["instruments"] >= 5
    assert data["released"] > 0 and data["embargoed"] > 0
    assert data["datasets"] == data["raw"] + data["processed"]
    assert {a["role"] for a in data["accounts"]} == {"manager", "staff", "user", "software"}
    assert data["nexus_files"] > 0
    written = [p for p in (tmp_path / "var" / "storage").rglob("*") if p.suffix in (".h5", ".hdf5")]
    assert len(written) == data["nexus_files"]

    skipped = fairbeam("demo", "--if-empty")
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stdout.strip().splitlines() == [
        "the catalogue already holds 40 investigation(s): no demo added"
    ]
    assert fairbeam.json("demo", "--if-empty") == {"skipped": True, "investigations": 40}
    _one_line_error(fairbeam("demo"), "already holds 40 investigation", "--if-empty")
    refused = fairbeam("demo", "--json")
    assert refused.returncode == 1 and "already holds" in json.loads(refused.stdout)["detail"]


def test_instrument_add_and_list(fairbeam: Fairbeam) -> None:
    assert fairbeam("db", "upgrade").returncode == 0
    created = fairbeam.json(
        "instrument",
        "add",
        "ID23",
        "--technique",
        "macromolecular crystallography",
        "--full-name",
        "MX beamline",
    )
    assert created["name"] == "ID23"
    assert created["techniques"] == ["macromolecular crystallography"]
    _one_line_error(fairbeam("instrument", "add", "ID23"), "ID23", "already exists")
    _one_line_error(fairbeam("instrument", "add", "bad name!"), "name")
    listed = fairbeam.json("instrument", "list")
    assert [i["name"] for i in listed] == ["ID23"]
    # A software account can now be bound to it.
    added = fairbeam.json("user", "add", "bliss-id23", "--role", "software", "--instrument", "ID23")
    assert added["instruments"] == ["ID23"]
