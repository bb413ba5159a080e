"""Settings from FAIRBEAM_* variables and a TOML file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fairbeam.config import load_settings
from fairbeam.errors import InvalidInput


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("FAIRBEAM_") and not name.startswith("FAIRBEAM_TEST_"):
            monkeypatch.delenv(name)


def test_defaults_work_on_a_laptop() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/fairbeam.db"
    assert settings.database_kind == "sqlite"
    assert settings.storage == Path("var/storage")
    assert settings.archive == Path("var/archive")
    assert settings.port == 8000


def test_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAIRBEAM_VAR", str(tmp_path))
    monkeypatch.setenv("FAIRBEAM_PORT", "8123")
    monkeypatch.setenv("FAIRBEAM_DATA_ROOTS", "/data/visitor, /data/inhouse")
    settings = load_settings()
    assert settings.port == 8123
    assert settings.data_roots == [Path("/data/visitor"), Path("/data/inhouse")]
    assert settings.database_url == f"sqlite:///{tmp_path}/fairbeam.db"


def test_toml_file_and_variables_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "fairbeam.toml"
    config.write_text(
        '[fairbeam]\nport = 9000\nfacility = "ILL"\n'
        'database_url = "postgresql+psycopg://fb@db/fb"\n'
    )
    monkeypatch.setenv("FAIRBEAM_CONFIG", str(config))
    monkeypatch.setenv("FAIRBEAM_PORT", "9100")
    settings = load_settings()
    assert settings.facility == "ILL"
    assert settings.port == 9100
    assert settings.database_kind == "postgresql"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("port = 'x", "not valid TOML"),
        ("prot = 9000", "unknown setting(s) prot"),
    ],
)
def test_bad_toml_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, message: str
) -> None:
    config = tmp_path / "fairbeam.toml"
    config.write_text(content)
    monkeypatch.setenv("FAIRBEAM_CONFIG", str(config))
    with pytest.raises(InvalidInput, match=re.escape(message)):
        load_settings()


def test_missing_toml_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAIRBEAM_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(InvalidInput, match="does not exist"):
        load_settings()
