"""A selection of files as one streamed zip response, with its length known in advance
and byte ranges honoured so an interrupted download resumes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import xxhash
from starlette.responses import Response

from fairbeam.config import Settings
from fairbeam.errors import NotFound
from fairbeam.storage.paths import servable_roots
from fairbeam.transfer.content import not_satisfiable
from fairbeam.transfer.ranges import (
    RangeNotSatisfiable,
    etag_matches,
    http_date,
    parse_range,
    range_applies,
)
from fairbeam.transfer.selection import Selection
from fairbeam.transfer.sending import PartsResponse, head_only
from fairbeam.transfer.zipformat import Layout, lay_out
from fairbeam.transfer.zipstream import ArchiveWriter, stream_archive


def archive_etag(selection: Selection, layout: Layout) -> str:
    """A validator that changes when a member's name, size, checksum or time does."""
    digest = xxhash.xxh3_128(b"\0".join(layout.names))
    digest.update(layout.sizes.tobytes())
    digest.update("\0".join(m.checksum or "" for m in selection.members).encode())
    digest.update(repr(sorted(set(layout.stamps))).encode())
    return f'"zip-{digest.hexdigest()}"'


def check_servable(selection: Selection) -> None:
    """404 before the first byte when a dataset's folder is not one this server reads."""
    outside = next((m for m in selection.members if m.place.under is None), None)
    if outside is not None:
        raise NotFound(f"file {outside.file_id} is not in a folder this server may read")
    for folder in selection.folders:
        if selection.members and not os.path.isdir(folder):
            raise NotFound(f"dataset folder {folder} is not on disk")


def archive_response(
    selection: Selection, settings: Settings, headers: Mapping[str, str]
) -> Response:
    """The selection as a zip: whole, or the one byte range asked (206)."""
    roots = servable_roots(settings)
    check_servable(selection)
    layout = lay_out(selection.members)
    etag = archive_etag(selection, layout)
    moments = {member.place.modified for member in selection.members}
    newest = max(moments, default=datetime(1980, 1, 1, tzinfo=UTC))
    common = {
        "etag": etag,
        "last-modified": http_date(newest),
        "accept-ranges": "bytes",
        "content-disposition": f"attachment; filename*=UTF-8''{quote(selection.name)}.zip",
    }
    if etag_matches(headers.get("if-none-match"), etag):
        return head_only(common, status_code=304)
    start, stop, status = 0, layout.length, 200
    if range_applies(headers.get("if-range"), etag, newest):
        try:
            ranges = parse_range(headers.get("range"), layout.length)
        except RangeNotSatisfiable as exc:
            return not_satisfiable(layout.length, exc.detail)
        # One range resumes a download; several are answered with the whole archive.
        if ranges is not None and len(ranges) == 1:
            start, stop, status = ranges[0].start, ranges[0].end + 1, 206
            common["content-range"] = ranges[0].content_range(layout.length)
    common["content-length"] = str(stop - start)
    writer = ArchiveWriter(selection.members, layout, roots)
    return PartsResponse(stream_archive(writer, start, stop), status, common, "application/zip")
