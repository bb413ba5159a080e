"""The files an archive batch works on: a dataset's files found and checked on disk before
they are packed, a restored copy checked against its bundle, an online copy removed."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Datafile
from fairbeam.config import Settings
from fairbeam.policy import bundle as files
from fairbeam.policy.archive import Located, dataset_root, remove_empty_folders
from fairbeam.policy.bundle import BundleError, Source
from fairbeam.policy.faults import fault_point
from fairbeam.storage.checksums import file_checksum, split_checksum
from fairbeam.storage.paths import servable_roots


def on_disk(folder: Path, path: str) -> Path | None:
    """The file ``path`` of a dataset in ``folder``, when it is a file there (a symbolic
    link is followed, and must stay inside the folder); read with one ``lstat`` for a
    plain file, where resolving the path would read every folder above it."""
    parts = PurePosixPath(path).parts
    if not parts or parts[0] == "/" or ".." in parts:
        return None
    disk = folder / path
    try:
        mode = disk.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return disk
    if stat.S_ISLNK(mode) and disk.resolve().is_relative_to(folder) and disk.is_file():
        return disk
    return None


def folders_and_files(
    session: Session, settings: Settings, datasets: Sequence[Located]
) -> dict[int, tuple[Path, list[Source]] | str]:
    """Every file of ``datasets``, read in one query and checked to be on disk: per
    dataset its folder and files, or why it cannot be archived."""
    found: dict[int, tuple[Path, list[Source]] | str] = {}
    folders: dict[int, Path] = {}
    roots = servable_roots(settings)
    for dataset in datasets:
        try:
            folders[dataset.id] = dataset_root(settings, dataset, roots)
        except BundleError as exc:
            found[dataset.id] = exc.detail
    rows: dict[int, list[Any]] = {dataset_id: [] for dataset_id in folders}
    if folders:
        query = (
            select(
                Datafile.dataset_id, Datafile.id, Datafile.path, Datafile.size, Datafile.checksum
            )
            .where(Datafile.dataset_id.in_(list(folders)))
            .order_by(Datafile.dataset_id, Datafile.path)
        )
        for row in session.execute(query):
            rows[row.dataset_id].append(row)
    for dataset_id, folder in folders.items():
        sources, missing = [], []
        for _, file_id, path, size, checksum in rows[dataset_id]:
            disk = on_disk(folder, path)
            if disk is None:
                missing.append(path)
            sources.append(Source(file_id, path, disk or folder / path, size, checksum))
        if missing:
            found[dataset_id] = (
                f"dataset {dataset_id}: {len(missing)} of its {len(sources)} files are not on "
                f"disk under {folder} (first {missing[0]!r}): not archived, nothing removed"
            )
        else:
            found[dataset_id] = (folder, sources)
    return found


def checksum_algorithm(settings: Settings, sources: list[Source]) -> str:
    """The catalogue's checksum algorithm when its files have one, else the setting's."""
    for source in sources:
        algorithm, digest = split_checksum(source.checksum or "")
        if algorithm in ("xxh3", "sha256") and digest:
            return algorithm
    return settings.checksum if settings.checksum != "none" else "xxh3"


def check_online_copy(target: Path, bundle_id: int) -> dict[str, Any]:
    """A restored dataset goes back to the archive without packing again, once its files
    on disk are shown to still match the verified bundle's manifest; the manifest."""
    manifest = files.read_manifest(target)
    folder = Path(manifest["folder"])
    for entry in manifest["files"]:
        disk = folder / entry["path"]
        algorithm = manifest["algorithm"]
        if not disk.is_file() or disk.stat().st_size != entry["size"]:
            raise BundleError(f"{disk} is not the file restored from bundle {bundle_id}")
        if file_checksum(disk, algorithm) != entry["checksum"]:
            raise BundleError(f"{disk} changed since it was restored from bundle {bundle_id}")
    return manifest


def remove_online_copy(manifest: dict[str, Any]) -> None:
    """Remove the online copy a verified bundle holds, and the folders it leaves empty."""
    folder = manifest["folder"]
    for number, entry in enumerate(manifest["files"]):
        try:
            os.unlink(os.path.join(folder, entry["path"]))
        except FileNotFoundError:
            pass
        if number == 0:
            fault_point("archive:during-removal")
    remove_empty_folders(Path(folder), [entry["path"] for entry in manifest["files"]])
