"""Where a datafile's bytes are: its dataset's location joined with its path, kept
inside the folders the server may serve."""

from __future__ import annotations

from pathlib import Path

from fairbeam.catalogue.models import Datafile, Dataset
from fairbeam.config import Settings
from fairbeam.errors import NotFound


def dataset_folder(location: str) -> Path:
    """The folder a dataset's file paths are relative to (its location, or the folder
    of its master file when several datasets share a folder)."""
    path = Path(location)
    return path.parent if path.is_file() else path


def servable_roots(settings: Settings) -> list[Path]:
    """Folders whose files the server may read: the data roots and the local storage."""
    return [root.resolve() for root in [*settings.data_roots, settings.storage]]


def datafile_path(settings: Settings, dataset: Dataset, datafile: Datafile) -> Path:
    """The file on disk, or NotFound when it is missing or outside the servable folders."""
    return file_at(settings, dataset.location, datafile)


def file_at(settings: Settings, location: str, datafile: Datafile) -> Path:
    """The file of ``datafile`` in a dataset at ``location``, checked as datafile_path does."""
    path = (dataset_folder(location) / datafile.path).resolve()
    if not any(path.is_relative_to(root) for root in servable_roots(settings)):
        raise NotFound(f"file {datafile.id} is not in a folder this server may read")
    if not path.is_file():
        raise NotFound(f"file {datafile.id} is not on disk at its recorded place")
    return path
