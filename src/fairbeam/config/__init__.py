"""Settings from FAIRBEAM_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fairbeam.errors import InvalidInput


def _default_var() -> Path:
    return Path(os.environ.get("FAIRBEAM_VAR", "var"))


def _default_portal_dir() -> Path:
    # From a checkout the package sits in src/fairbeam/, the portal's build in frontend/dist.
    return Path(__file__).resolve().parents[3] / "frontend" / "dist"


class Settings(BaseSettings):
    """Every setting of fairbeam; each default works on a laptop."""

    model_config = SettingsConfigDict(env_prefix="FAIRBEAM_", extra="ignore")

    var: Path = Field(default_factory=_default_var, description="Folder for local state.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the catalogue; default a SQLite file in var/.",
    )
    storage: Path = Field(default=Path(), description="The local storage folder.")
    archive: Path = Field(default=Path(), description="The archive tier's folder.")
    data_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders the server may harvest and serve (comma-separated).",
    )
    host: str = Field(default="127.0.0.1", description="Address `fairbeam serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `fairbeam serve` binds.")
    facility: str = Field(default="ESRF", description="Short name of the facility.")
    facility_name: str = Field(
        default="European Synchrotron Radiation Facility", description="Full name."
    )
    layout: str = Field(
        default=(
            ".../visitor/{proposal}/{beamline}/{session}/{kind}/{sample}/"
            "{sample}_{dataset}/{sample}_{dataset}.h5"
        ),
        description="The facility's directory layout of acquisition files.",
    )
    raw_folder: str = Field(default="RAW_DATA", description="`{kind}` of raw data.")
    processed_folder: str = Field(
        default="PROCESSED_DATA", description="`{kind}` of processed data."
    )
    checksum: Literal["xxh3", "sha256", "none"] = Field(
        default="xxh3", description="Checksum harvest computes: xxh3 (fast), sha256 or none."
    )
    checksum_max_bytes: int = Field(
        default=0, ge=0, description="Files larger than this get no checksum (0: no limit)."
    )
    download_large_bytes: int = Field(
        default=2 * 1024**3,
        ge=0,
        description="Above this size the portal offers a manifest and `fairbeam download`.",
    )
    globus_url: str = Field(
        default="",
        description="Globus link of the facility's endpoint; `{path}` becomes a folder.",
    )
    harvest_workers: int = Field(
        default=2, ge=1, le=64, description="Processes reading files in parallel during harvest."
    )
    watch_settle_seconds: float = Field(
        default=10.0, ge=0, description="How long a dataset stays unchanged before it is harvested."
    )
    watch_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the watcher looks at the folders."
    )
    watch_marker: str = Field(
        default=".finished",
        pattern=r"^[^/\\]*$",
        description="A file whose presence in an acquisition folder says it is finished.",
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="Lifetime of a login session token, in hours."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins allowed per username in the window."
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="Window of the login rate limit, in seconds."
    )
    attachment_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest logbook attachment, in bytes."
    )
    logbook_poll_seconds: float = Field(
        default=0.5, gt=0, description="How often a live logbook stream looks for new events."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address the public reaches the portal at; DOIs resolve to pages under it.",
    )
    embargo_years: int = Field(
        default=3, ge=0, le=100, description="Years data stays closed after an investigation ends."
    )
    online_days: int = Field(
        default=90, ge=0, description="Days raw data stays on disk before it goes to the archive."
    )
    retention_years: int = Field(
        default=10, ge=0, description="Years raw data is kept in the archive, then deleted."
    )
    not_kept_proposal_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["industrial"],
        description="Proposal types whose data is not kept (comma-separated).",
    )
    open_data_needs_login: bool = Field(
        default=True, description="Downloading open data needs a registered identity."
    )
    policy_interval_hours: float = Field(
        default=24.0, ge=0, description="How often `fairbeam serve` runs a policy pass (0: never)."
    )
    doi_prefix: str = Field(
        default="10.5072",
        pattern=r"^10\.\d{4,9}$",
        description="The facility's DOI prefix (10.5072 is DataCite's test prefix).",
    )
    datacite_url: str = Field(
        default="",
        description="DataCite's REST API (https://api.datacite.org); empty keeps DOIs locally.",
    )
    datacite_username: str = Field(default="", description="DataCite repository id.")
    datacite_password: str = Field(default="", description="DataCite repository password.")
    portal_dir: Path = Field(
        default_factory=_default_portal_dir,
        description="Folder of the built web portal (`npm run build` in frontend/).",
    )

    @field_validator("data_roots", "not_kept_proposal_types", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def model_post_init(self, context: Any, /) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var / 'fairbeam.db').as_posix()}"
        if self.storage == Path():
            self.storage = self.var / "storage"
        if self.archive == Path():
            self.archive = self.var / "archive"

    @property
    def database_kind(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"


def _toml_values(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise InvalidInput(f"FAIRBEAM_CONFIG names {path}, which does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"FAIRBEAM_CONFIG file {path} is not valid TOML: {exc}") from exc
    section = data.get("fairbeam", data)
    known = set(Settings.model_fields)
    unknown = sorted(set(section) - known)
    if unknown:
        raise InvalidInput(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return dict(section)


def load_settings(**overrides: Any) -> Settings:
    """Build settings: TOML file (if FAIRBEAM_CONFIG names one), then FAIRBEAM_* variables."""
    values: dict[str, Any] = {}
    config_file = os.environ.get("FAIRBEAM_CONFIG")
    if config_file:
        values.update(_toml_values(Path(config_file)))
    env_names = {name for name in Settings.model_fields if f"FAIRBEAM_{name.upper()}" in os.environ}
    # Environment variables win over the file: drop file values they override.
    for name in env_names:
        values.pop(name, None)
    values.update(overrides)
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return load_settings()
