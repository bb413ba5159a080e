"""What a download holds: the files of datasets, an investigation or a selection, found
through the access rules, with the restore a caller needs when data is not on disk."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_data, check_download, dataset_filter
from fairbeam.catalogue.models import Datafile, Dataset, Investigation
from fairbeam.catalogue.service import get_dataset, get_investigation
from fairbeam.config import Settings
from fairbeam.errors import Conflict
from fairbeam.storage.paths import dataset_folder, servable_roots

ONLINE = "online"


class RestoreNeeded(Conflict):
    """Some of the asked data is not on disk: it must be restored from the archive first."""


@dataclass(frozen=True)
class Member:
    """One file of a download: its name in the download, where it is, what it holds."""

    file_id: int
    name: str
    path: Path
    size: int
    checksum: str | None
    relative: str | None  # its path under the data root that holds it (None: outside)
    modified: datetime


@dataclass(frozen=True)
class Selection:
    """The files of a download, in a stable order, and a name for it."""

    name: str
    members: list[Member]

    @property
    def size(self) -> int:
        """The bytes of every file together."""
        return sum(member.size for member in self.members)


def restore_needed(session: Session, dataset_ids: list[int]) -> None:
    """Raise RestoreNeeded when a file of these datasets is not on the online tier."""
    rows = session.execute(
        select(Datafile.dataset_id, Datafile.tier, func.count())
        .where(Datafile.dataset_id.in_(dataset_ids), Datafile.tier != ONLINE)
        .group_by(Datafile.dataset_id, Datafile.tier)
        .order_by(Datafile.dataset_id)
    ).all()
    if not rows:
        return
    dataset_id, tier, count = rows[0]
    more = f" (and {len(rows) - 1} more datasets)" if len(rows) > 1 else ""
    raise RestoreNeeded(
        f"dataset {dataset_id} has {count} file(s) on the {tier!r} tier, not on disk{more}: "
        f"ask for a restore with `POST /api/datasets/{dataset_id}/restore` and download "
        "again once its files are online"
    )


def check_online(datafile: Datafile) -> None:
    """Raise RestoreNeeded when one file is not on the online tier."""
    if datafile.tier != ONLINE:
        raise RestoreNeeded(
            f"file {datafile.id} is on the {datafile.tier!r} tier, not on disk: ask for a "
            f"restore with `POST /api/datasets/{datafile.dataset_id}/restore` and download "
            "again once it is online"
        )


def safe_name(text: str) -> str:
    """A path inside a download: relative, without `..`, NUL or backslash tricks."""
    parts = [p for p in text.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts).replace("\x00", "")


def _root_relative(folder: Path, roots: list[Path]) -> Path | None:
    for root in roots:
        if folder.is_relative_to(root):
            return folder.relative_to(root)
    return None


def _members(
    session: Session, settings: Settings, datasets: list[Dataset], prefix: str
) -> list[Member]:
    roots = servable_roots(settings)
    folders: dict[int, tuple[Path, Path | None, str, datetime]] = {}
    seen: set[str] = set()
    for dataset in datasets:
        folder = Path(os.path.realpath(dataset_folder(dataset.location)))
        label = safe_name(dataset.name) or f"dataset_{dataset.id}"
        if label in seen:
            label = f"{label}_{dataset.id}"
        seen.add(label)
        moment = dataset.end or dataset.start
        folders[dataset.id] = (folder, _root_relative(folder, roots), label, moment)
    rows = session.execute(
        select(Datafile.id, Datafile.dataset_id, Datafile.path, Datafile.size, Datafile.checksum)
        .where(Datafile.dataset_id.in_(list(folders)))
        .order_by(Datafile.dataset_id, Datafile.path)
    ).all()
    members = []
    for file_id, dataset_id, path, size, checksum in rows:
        folder, relative, label, moment = folders[dataset_id]
        inside = safe_name(path)
        members.append(
            Member(
                file_id=file_id,
                name=f"{prefix}{label}/{inside}",
                path=folder / inside,
                size=size,
                checksum=checksum,
                relative=None if relative is None else (relative / inside).as_posix(),
                modified=moment,
            )
        )
    return members


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "download"


def select_datasets(
    session: Session, settings: Settings, principal: Principal, dataset_ids: list[int]
) -> Selection:
    """The files of these datasets (404 for one the caller may not see; 401 anonymous)."""
    datasets = [get_dataset(session, principal, dataset_id) for dataset_id in dataset_ids]
    check_download(principal, "data")
    restore_needed(session, dataset_ids)
    if len(datasets) == 1:
        return Selection(_name(datasets[0].name), _members(session, settings, datasets, ""))
    return Selection(f"datasets_{len(datasets)}", _members(session, settings, datasets, ""))


def select_investigation(
    session: Session, settings: Settings, principal: Principal, ref: str
) -> Selection:
    """The files of the investigation's datasets the caller may see."""
    investigation = get_investigation(session, ref)
    datasets = list(
        session.scalars(
            select(Dataset)
            .join(Investigation, Investigation.id == Dataset.investigation_id)
            .where(Dataset.investigation_id == investigation.id, dataset_filter(principal))
            .order_by(Dataset.start, Dataset.id)
        )
    )
    if not datasets:
        check_data(principal, investigation, f"investigation {ref}")
    check_download(principal, "data")
    restore_needed(session, [d.id for d in datasets])
    code = _name(investigation.code)
    return Selection(code, _members(session, settings, datasets, f"{code}/"))
