"""One file's bytes over HTTP: validators, conditional requests and byte ranges."""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import xxhash
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from fairbeam.access.policy import Principal, check_download
from fairbeam.catalogue.datasets import locate_file
from fairbeam.config import Settings
from fairbeam.storage.paths import file_at
from fairbeam.transfer.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    etag_matches,
    http_date,
    merge_ranges,
    parse_range,
    range_applies,
)
from fairbeam.transfer.selection import check_online
from fairbeam.transfer.sending import FileSlice, Part, PartsResponse, head_only

OCTETS = "application/octet-stream"


@dataclass(frozen=True)
class FileVersion:
    """A file on disk as it is now, with the validators of its bytes."""

    path: Path
    name: str
    size: int
    modified: datetime
    etag: str
    checksum: str | None

    @property
    def media_type(self) -> str:
        """The file's media type, guessed from its name."""
        if self.name.endswith((".h5", ".nxs", ".hdf5", ".hdf", ".nx5")):
            return "application/x-hdf5"
        return mimetypes.guess_type(self.name)[0] or OCTETS


def file_version(
    session: Session, settings: Settings, principal: Principal, file_id: int
) -> FileVersion:
    """The file to send: 404 when the caller may not see it, 401 anonymous, 409 offline."""
    datafile, location = locate_file(session, principal, file_id)
    check_download(principal, f"file {file_id}", settings.open_data_needs_login)
    check_online(session, principal, datafile)
    path = file_at(settings, location, datafile)
    stat = path.stat()
    # Size, modification time and the catalogue's checksum change when the bytes do.
    token = xxhash.xxh3_64_hexdigest(
        f"{stat.st_size}:{stat.st_mtime_ns}:{datafile.checksum}".encode()
    )
    return FileVersion(
        path=path,
        name=Path(datafile.path).name,
        size=stat.st_size,
        modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        etag=f'"{token}"',
        checksum=datafile.checksum,
    )


def _validators(version: FileVersion) -> dict[str, str]:
    headers = {
        "etag": version.etag,
        "last-modified": http_date(version.modified),
        "accept-ranges": "bytes",
        "content-disposition": f"attachment; filename*=UTF-8''{quote(version.name, safe='')}",
    }
    if version.checksum:
        # The catalogue's checksum, so a client can verify what it received.
        headers["x-checksum"] = version.checksum
    return headers


def not_satisfiable(size: int, detail: str) -> Response:
    """416 with the representation's size, as RFC 9110 asks."""
    return JSONResponse(
        {"detail": detail}, status_code=416, headers={"content-range": f"bytes */{size}"}
    )


def multipart(
    path: Path, ranges: list[ByteRange], size: int, media_type: str
) -> tuple[list[Part], int, str]:
    """The parts of a multipart/byteranges body, its length and its boundary."""
    boundary = secrets.token_hex(16)
    parts: list[Part] = []
    for index, byte_range in enumerate(ranges):
        head = (
            f"{'' if index == 0 else chr(13) + chr(10)}--{boundary}\r\n"
            f"Content-Type: {media_type}\r\n"
            f"Content-Range: {byte_range.content_range(size)}\r\n\r\n"
        )
        parts += [head.encode(), FileSlice(path, byte_range.start, byte_range.length)]
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    length = sum(len(p) if isinstance(p, bytes) else p.count for p in parts)
    return parts, length, boundary


def content_response(version: FileVersion, headers: Mapping[str, str]) -> Response:
    """The file's bytes as the request asks: whole, 304, one range or several (206)."""
    common = _validators(version)
    if etag_matches(headers.get("if-none-match"), version.etag):
        return head_only(common, status_code=304)
    asked = None
    if range_applies(headers.get("if-range"), version.etag, version.modified):
        try:
            asked = parse_range(headers.get("range"), version.size)
        except RangeNotSatisfiable as exc:
            return not_satisfiable(version.size, exc.detail)
    if asked is None:
        whole = FileSlice(version.path, 0, version.size)
        common["content-length"] = str(version.size)
        return PartsResponse([whole], headers=common, media_type=version.media_type)
    ranges = merge_ranges(asked)
    if len(ranges) == 1:
        (one,) = ranges
        common["content-range"] = one.content_range(version.size)
        common["content-length"] = str(one.length)
        part = FileSlice(version.path, one.start, one.length)
        return PartsResponse([part], 206, common, version.media_type)
    parts, length, boundary = multipart(version.path, ranges, version.size, version.media_type)
    common["content-length"] = str(length)
    media = f"multipart/byteranges; boundary={boundary}"
    return PartsResponse(parts, 206, common, media)
