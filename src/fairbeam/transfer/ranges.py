"""HTTP byte ranges (RFC 9110 §14): parsing `Range`, validators and conditional requests."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

from fairbeam.errors import FairbeamError

# More ranges than this in one request is refused as abusive (RFC 9110 §14.2 allows it).
MAX_RANGES = 64


class RangeNotSatisfiable(FairbeamError):
    """None of the asked byte ranges lies inside the representation."""

    status_code = 416

    def __init__(self, size: int) -> None:
        super().__init__(f"the asked range is outside the {size} bytes of this representation")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive, as in `Content-Range`."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        """The `Content-Range` value of this range in a representation of ``size`` bytes."""
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> list[ByteRange] | None:
    """The satisfiable ranges of a `Range` header, or None to send the whole representation.

    A header that cannot be parsed, or uses another unit, is ignored as RFC 9110 says;
    one whose ranges all lie outside the representation raises RangeNotSatisfiable.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts or len(parts) > MAX_RANGES:
        return None
    ranges: list[ByteRange] = []
    for part in parts:
        first, dash, last = part.partition("-")
        first, last = first.strip(), last.strip()
        if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
            return None
        if first == "":
            if last == "":
                return None
            suffix = int(last)
            if suffix == 0 or size == 0:
                continue
            ranges.append(ByteRange(max(0, size - suffix), size - 1))
            continue
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None
        if start >= size:
            continue
        ranges.append(ByteRange(start, min(end, size - 1)))
    if not ranges:
        raise RangeNotSatisfiable(size)
    return ranges


def merge_ranges(ranges: list[ByteRange]) -> list[ByteRange]:
    """Overlapping or adjacent ranges merged, in order (RFC 9110 lets a server coalesce)."""
    merged: list[ByteRange] = []
    for current in sorted(ranges, key=lambda r: r.start):
        if merged and current.start <= merged[-1].end + 1:
            merged[-1] = ByteRange(merged[-1].start, max(merged[-1].end, current.end))
        else:
            merged.append(current)
    return merged


def http_date(moment: datetime) -> str:
    """An IMF-fixdate, as `Last-Modified` carries."""
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    """A datetime from an HTTP date, or None when there is none or it is not valid."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def etag_matches(header: str | None, etag: str) -> bool:
    """True when `If-None-Match` names ``etag`` (weakly compared) or is ``*``."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def range_applies(if_range: str | None, etag: str, modified: datetime) -> bool:
    """True when an `If-Range` validator still holds (strong comparison), or there is none."""
    if not if_range:
        return True
    if_range = if_range.strip()
    if if_range.startswith('"') or if_range.startswith("W/"):
        return if_range == etag and not etag.startswith("W/")
    moment = parse_http_date(if_range)
    return moment is not None and int(modified.timestamp()) <= int(moment.timestamp())
