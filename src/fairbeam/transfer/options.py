"""How a selection can be downloaded: its size, and the links and command line to use."""

from __future__ import annotations

import posixpath
from urllib.parse import quote

from pydantic import BaseModel

from fairbeam.config import Settings
from fairbeam.transfer.selection import Selection


class DownloadOptions(BaseModel):
    """What the portal shows before a download: size, and the ways to fetch it."""

    files: int
    size: int
    large: bool
    large_bytes: int  # the size above which ``large`` holds
    zip: str
    metalink: str
    manifest: str
    command: str
    globus: str | None = None


def download_options(
    selection: Selection, settings: Settings, base_url: str, path: str, target: str
) -> DownloadOptions:
    """The options of the selection served under ``path`` (e.g. `api/datasets/12`)."""
    size = selection.size
    large = size > settings.download_large_bytes
    globus = None
    relatives = [m.relative for m in selection.members if m.relative is not None]
    if settings.globus_url and large and relatives:
        folder = posixpath.commonpath(relatives) if len(relatives) > 1 else relatives[0]
        if len(relatives) == 1:
            folder = posixpath.dirname(folder)
        globus = settings.globus_url.replace("{path}", quote(folder))
    server = base_url.rstrip("/")
    return DownloadOptions(
        files=len(selection.members),
        size=size,
        large=large,
        large_bytes=settings.download_large_bytes,
        zip=f"{base_url}{path}/archive.zip",
        metalink=f"{base_url}{path}/manifest.metalink",
        manifest=f"{base_url}{path}/manifest.txt",
        command=f"fairbeam download {target} --url {server} --to .",
        globus=globus,
    )
