"""The client side of downloads: the files of a dataset or investigation fetched over
several connections, resumed from `.part` files, every checksum verified."""

from __future__ import annotations

import hashlib
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx
import xxhash

from fairbeam.client.errors import ClientError, Unreachable, error_from_response
from fairbeam.transfer.manifest import FAIRBEAM_NS, METALINK_NS
from fairbeam.transfer.selection import safe_name

if TYPE_CHECKING:
    from fairbeam.client import Client

CHUNK = 1024 * 1024
ATTEMPTS = 3
PORTAL_PATH = re.compile(r"/(?:api/)?(datasets|investigations)/([^/?#]+)")
DOI = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


class _Hasher(Protocol):
    def update(self, data: Any, /) -> Any: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: its name under the target folder, size, checksum and URL."""

    name: str
    size: int
    checksum: str | None
    url: str


@dataclass
class DownloadReport:
    """What a download did, file by file."""

    fetched: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unverified: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every file is there and verified (or has no checksum to verify)."""
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "fetched": self.fetched,
            "resumed": self.resumed,
            "skipped": self.skipped,
            "failed": self.failed,
            "unverified": self.unverified,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


class ChecksumMismatch(Exception):
    """The bytes received do not have the catalogue's checksum."""


def target_path(target: str) -> tuple[str | None, str]:
    """``(server, api path)`` of a dataset id, investigation code, portal URL or API URL."""
    text = target.strip()
    if DOI.match(text):
        raise ValueError(
            f"{text!r} is a DOI; DOIs are resolved once the catalogue mints them: "
            "give the dataset id or the investigation code"
        )
    if text.startswith(("http://", "https://")):
        parts = urlsplit(text)
        found = PORTAL_PATH.search(parts.path)
        if not found:
            raise ValueError(f"{text!r} names no dataset or investigation (…/datasets/12)")
        prefix = parts.path[: found.start()].removesuffix("/api")
        return f"{parts.scheme}://{parts.netloc}{prefix}", f"/api/{found[1]}/{found[2]}"
    if text.isdigit():
        return None, f"/api/datasets/{text}"
    return None, f"/api/investigations/{text}"


def remote_files(client: Client, api_path: str) -> list[RemoteFile]:
    """The files of the download, read from its Metalink manifest."""
    try:
        response = client._http.get(f"{api_path}/manifest.metalink")
    except httpx.TransportError as exc:
        raise Unreachable(f"{client.url} did not answer: {exc}") from exc
    if response.status_code >= 400:
        raise error_from_response(response)
    found = []
    ns = {"m": METALINK_NS, "fb": FAIRBEAM_NS}
    for node in ET.fromstring(response.content).findall("m:file", ns):
        digest = node.findtext("m:hash[@type='sha-256']", namespaces=ns)
        checksum = f"sha256:{digest}" if digest else node.findtext("fb:checksum", namespaces=ns)
        found.append(
            RemoteFile(
                name=safe_name(node.get("name", "")),
                size=int(node.findtext("m:size", "0", ns)),
                checksum=checksum,
                url=node.findtext("m:url", "", ns),
            )
        )
    return found


def _hasher(checksum: str | None) -> _Hasher | None:
    algorithm = (checksum or "").partition(":")[0]
    if algorithm == "xxh3":
        return xxhash.xxh3_128()
    if algorithm == "sha256":
        return hashlib.sha256()
    return None


def _digest_of(path: Path, hasher: _Hasher) -> None:
    with path.open("rb") as handle:
        while data := handle.read(CHUNK):
            hasher.update(data)


def _verified(hasher: _Hasher | None, checksum: str | None) -> bool:
    return hasher is None or f"{(checksum or '').partition(':')[0]}:{hasher.hexdigest()}" == (
        checksum or ""
    )


Progress = Callable[[int], None]


class Fetcher:
    """Fetches files into ``folder`` with one HTTP client shared by the threads."""

    def __init__(self, client: Client, folder: Path, progress: Progress) -> None:
        self.client = client
        self.folder = folder
        self.progress = progress

    def already_there(self, remote: RemoteFile) -> bool:
        """True when the final file exists with the right size and checksum."""
        final = self.folder / remote.name
        if not final.is_file() or final.stat().st_size != remote.size:
            return False
        hasher = _hasher(remote.checksum)
        if hasher is not None:
            _digest_of(final, hasher)
        return _verified(hasher, remote.checksum)

    def fetch(self, remote: RemoteFile) -> str:
        """Fetch one file, resuming its `.part`; ``fetched`` or ``resumed``."""
        final = self.folder / remote.name
        part = final.with_name(final.name + ".part")
        part.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.exists() else 0
        if have > remote.size:
            part.unlink()
            have = 0
        hasher = _hasher(remote.checksum)
        if have and hasher is not None:
            _digest_of(part, hasher)
        self.progress(have)
        headers = {"Range": f"bytes={have}-"} if have and have < remote.size else {}
        if have < remote.size or not remote.size:
            with self.client._http.stream("GET", remote.url, headers=headers) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_from_response(response)
                if have and response.status_code != 206:
                    # The file changed on the server (If-Range-like): start it again.
                    self.progress(-have)
                    have, hasher = 0, _hasher(remote.checksum)
                with part.open("ab" if have else "wb") as out:
                    for data in response.iter_bytes(CHUNK):
                        out.write(data)
                        if hasher is not None:
                            hasher.update(data)
                        self.progress(len(data))
        if part.stat().st_size != remote.size:
            raise ChecksumMismatch(f"received {part.stat().st_size} bytes, expected {remote.size}")
        if not _verified(hasher, remote.checksum):
            part.unlink()
            raise ChecksumMismatch(f"checksum differs from the catalogue's {remote.checksum}")
        part.replace(final)
        return "resumed" if have else "fetched"


def download(
    client: Client,
    target: str,
    to: Path | str = ".",
    parallel: int = 4,
    progress: Callable[[int, int], Progress] | None = None,
) -> DownloadReport:
    """Fetch a dataset or investigation into ``to``; ``progress(files, bytes)`` gives a
    callback that receives byte counts as they arrive."""
    started = time.monotonic()
    _, api_path = target_path(target)
    folder = Path(to)
    files = remote_files(client, api_path)
    advance = progress(len(files), sum(f.size for f in files)) if progress else lambda _: None
    fetcher = Fetcher(client, folder, advance)
    report = DownloadReport()

    def one(remote: RemoteFile) -> tuple[str, str]:
        if fetcher.already_there(remote):
            advance(remote.size)
            return "skipped", ""
        error = ""
        for _ in range(ATTEMPTS):
            try:
                return fetcher.fetch(remote), ""
            except ClientError as exc:
                return "failed", exc.detail
            except (httpx.TransportError, ChecksumMismatch, OSError) as exc:
                error = str(exc) or type(exc).__name__
        return "failed", error

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = {pool.submit(one, remote): remote for remote in files}
        for future in as_completed(futures):
            remote = futures[future]
            outcome, error = future.result()
            if outcome == "failed":
                report.failed[remote.name] = error
                continue
            getattr(report, outcome).append(remote.name)
            if outcome != "skipped":
                report.bytes += remote.size
            if _hasher(remote.checksum) is None:
                report.unverified.append(remote.name)
    for names in (report.fetched, report.resumed, report.skipped, report.unverified):
        names.sort()
    report.seconds = time.monotonic() - started
    return report
