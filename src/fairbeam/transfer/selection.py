"""What a download holds: the files of datasets, an investigation or a selection, found
through the access rules, with the restore a caller needs when data is not on disk."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_data, check_download, dataset_filter
from fairbeam.catalogue.datasets import get_dataset
from fairbeam.catalogue.models import Datafile, Dataset, Investigation
from fairbeam.catalogue.service import get_investigation
from fairbeam.config import Settings
from fairbeam.errors import Conflict
from fairbeam.storage.paths import dataset_folder, servable_roots

ONLINE = "online"
# What safe_name would change in a path: `.` or `..` segments, absolute or empty parts,
# backslashes, NUL; searched over all paths joined by newlines at once.
UNSAFE = re.compile(r"(?:^|/)\.\.?(?:/|$)|^/|//|/$|^$|\\|\x00", re.MULTILINE)


class RestoreNeeded(Conflict):
    """Some of the asked data is not on disk: it must be restored from the archive first."""


class Place(NamedTuple):
    """Where a dataset's files are, and what their names start with in a download."""

    folder: str  # its real folder on disk, with a trailing slash
    under: str | None  # that folder under the data root holding it (None: outside)
    label: str  # the folder its files go to in a download
    modified: datetime


class Member(NamedTuple):
    """One file of a download: its path in its dataset, its dataset's place, its bytes.

    A small tuple whose names are derived on demand: a download may hold 200,000 of
    them, kept in memory while it streams."""

    file_id: int
    place: Place
    inside: str  # its path inside its dataset's folder
    size: int
    checksum: str | None

    @property
    def name(self) -> str:
        """Its name in the download."""
        return self.place.label + self.inside

    @property
    def path(self) -> str:
        """The file on disk."""
        return self.place.folder + self.inside

    @property
    def relative(self) -> str | None:
        """Its path under the data root that holds it (None: outside every root)."""
        return None if self.place.under is None else self.place.under + self.inside

    @property
    def modified(self) -> datetime:
        """The time its zip entry carries: its dataset's end (or start)."""
        return self.place.modified


@dataclass(frozen=True)
class Selection:
    """The files of a download, in a stable order, and a name for it."""

    name: str
    members: list[Member]
    folders: list[str]  # the real folders of its datasets

    @property
    def size(self) -> int:
        """The bytes of every file together."""
        return sum(member.size for member in self.members)


def _file_rows(session: Session, dataset_ids: list[int]) -> list[tuple[Any, ...]]:
    """(id, dataset, path, size, checksum, tier) of the datasets' files, by dataset and path.

    Read through the driver's own cursor: a dataset may hold 200,000 files, and the
    first byte of its zip waits for all of them (ids are integers, inlined safely).
    """
    query = (
        select(
            Datafile.id,
            Datafile.dataset_id,
            Datafile.path,
            Datafile.size,
            Datafile.checksum,
            Datafile.tier,
        )
        .where(Datafile.dataset_id.in_([int(i) for i in dataset_ids]))
        .order_by(Datafile.dataset_id, Datafile.path)
    )
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _restore_needed(
    session: Session, principal: Principal, offline: list[tuple[Any, ...]], queue: bool
) -> None:
    """Raise RestoreNeeded for the first dataset with files (rows of _file_rows) not on
    the online tier: with ``queue``, after queuing its restore, which it names; else
    saying how to ask for one (a look at how data could be downloaded, such as the
    download options a dataset's page shows, must not bring it back from tape)."""
    from fairbeam.policy.restore import restore_for_download

    dataset_id = offline[0][1]
    others = len({row[1] for row in offline}) - 1
    more = f" ({others} more datasets of this download are archived too)" if others else ""
    if not queue:
        raise RestoreNeeded(
            f"dataset {dataset_id} is archived, not on disk: ask for a restore with "
            f"POST /api/datasets/{dataset_id}/restore{more}"
        )
    raise RestoreNeeded(restore_for_download(session, principal, dataset_id) + more)


def check_online(session: Session, principal: Principal, datafile: Datafile) -> None:
    """Raise RestoreNeeded, with the restore it queued, when a file is not on disk."""
    if datafile.tier != ONLINE:
        from fairbeam.policy.restore import restore_for_download

        raise RestoreNeeded(restore_for_download(session, principal, datafile.dataset_id))


def safe_name(text: str) -> str:
    """A path inside a download: relative, without `..`, NUL or backslash tricks."""
    parts = [p for p in text.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts).replace("\x00", "")


def _root_relative(folder: Path, roots: list[Path]) -> Path | None:
    for root in roots:
        if folder.is_relative_to(root):
            return folder.relative_to(root)
    return None


def _selection(
    session: Session,
    settings: Settings,
    principal: Principal,
    datasets: list[Dataset],
    name: str,
    prefix: str,
    queue_restore: bool,
) -> Selection:
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
    rows = _file_rows(session, list(folders))
    offline = [row for row in rows if row[5] != ONLINE]
    if offline:
        _restore_needed(session, principal, offline, queue_restore)
    places: dict[int, Place] = {}
    for dataset_id, (real, relative, label, moment) in folders.items():
        under = None if relative is None else f"{relative}/".removeprefix("./")
        places[dataset_id] = Place(f"{real}/", under, f"{prefix}{label}/", moment)
    # One scan of every path for anything unsafe; only then are paths cleaned one by one.
    if UNSAFE.search("\n".join([row[2] for row in rows])) is not None:
        rows = [(i, d, safe_name(path), *rest) for i, d, path, *rest in rows]
    members = [
        Member(file_id, places[dataset_id], path, size, checksum)
        for file_id, dataset_id, path, size, checksum, _ in rows
    ]
    del rows
    return Selection(name, members, [str(real) for real, *_ in folders.values()])


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "download"


def select_datasets(
    session: Session,
    settings: Settings,
    principal: Principal,
    dataset_ids: list[int],
    queue_restore: bool = True,
) -> Selection:
    """The files of these datasets (404 for one the caller may not see; 401 anonymous;
    409 when one is archived, after queuing its restore if ``queue_restore``)."""
    datasets = [get_dataset(session, principal, dataset_id) for dataset_id in dataset_ids]
    check_download(principal, "data", settings.open_data_needs_login)
    name = _name(datasets[0].name) if len(datasets) == 1 else f"datasets_{len(datasets)}"
    return _selection(session, settings, principal, datasets, name, "", queue_restore)


def select_investigation(
    session: Session, settings: Settings, principal: Principal, ref: str, queue_restore: bool = True
) -> Selection:
    """The files of the investigation's datasets the caller may see (409 as for
    ``select_datasets``)."""
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
    check_download(principal, "data", settings.open_data_needs_login)
    code = _name(investigation.code)
    return _selection(session, settings, principal, datasets, code, f"{code}/", queue_restore)
