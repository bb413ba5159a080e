"""The records of a zip64 archive of stored (uncompressed) members with data descriptors,
laid out in advance so the archive's length and every member's offset are known."""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Protocol

VERSION = 45  # zip64
FLAGS = 0x0808  # bit 3: sizes and CRC in a data descriptor; bit 11: UTF-8 names
MADE_BY = (3 << 8) | VERSION  # Unix, so the permission bits below are read
FILE_MODE = (0o100644 << 16) & 0xFFFFFFFF
LOCAL_FIXED = 30 + 20  # local header and its zip64 extra field
DESCRIPTOR = 24  # signature, CRC, 8-byte sizes
CENTRAL_FIXED = 46 + 28  # central header and its zip64 extra field
END = 56 + 20 + 22  # zip64 end record, its locator, the end record
MAX32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Entry:
    """One member as the archive lays it out: its name, size, time and header offset."""

    name: bytes
    size: int
    dos_time: int
    dos_date: int
    offset: int

    @property
    def data_start(self) -> int:
        """Where the member's bytes begin in the archive."""
        return self.offset + LOCAL_FIXED + len(self.name)

    @property
    def end(self) -> int:
        """Where the member's data descriptor ends."""
        return self.data_start + self.size + DESCRIPTOR


def dos_datetime(moment: datetime) -> tuple[int, int]:
    """MS-DOS time and date of ``moment`` (zip cannot say a year before 1980)."""
    year = min(max(moment.year, 1980), 2107)
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, ((year - 1980) << 9) | (moment.month << 5) | moment.day


class Sized(Protocol):
    """What the layout needs of a member."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def modified(self) -> datetime: ...


@dataclass(frozen=True)
class Layout:
    """Every member's place, the central directory's, and the archive's length.

    Kept in flat arrays: 200,000 members are laid out before the first byte is sent."""

    names: list[bytes]
    sizes: array[int]
    offsets: array[int]
    stamps: list[tuple[int, int]]
    central_start: int
    central_size: int

    @property
    def length(self) -> int:
        """The archive's length in bytes."""
        return self.central_start + self.central_size + END

    def entry(self, index: int) -> Entry:
        """Member ``index`` as the archive lays it out."""
        time, date = self.stamps[index]
        return Entry(self.names[index], self.sizes[index], time, date, self.offsets[index])

    def first_ending_after(self, position: int) -> int:
        """The index of the first member whose records end after ``position``."""
        return max(bisect_right(self.offsets, position) - 1, 0)


def lay_out(members: Sequence[Sized]) -> Layout:
    """The layout of an archive of ``members``, in that order."""
    names = [member.name.encode("utf-8") for member in members]
    sizes = array("q", [member.size for member in members])
    moments = [member.modified for member in members]
    stamp_of = {moment: dos_datetime(moment) for moment in set(moments)}
    stamps = [stamp_of[moment] for moment in moments]
    fixed = LOCAL_FIXED + DESCRIPTOR
    ends = accumulate(fixed + len(name) + size for name, size in zip(names, sizes, strict=True))
    offsets = array("q", [0])
    offsets.extend(ends)
    position = offsets.pop()
    central = CENTRAL_FIXED * len(names) + sum(map(len, names))
    return Layout(names, sizes, offsets, stamps, position, central)


def local_header(entry: Entry) -> bytes:
    """The local header of a member, sizes in its zip64 extra field, CRC left to the descriptor."""
    fixed = struct.pack(
        "<IHHHHHIIIHH",
        0x04034B50,
        VERSION,
        FLAGS,
        0,
        entry.dos_time,
        entry.dos_date,
        0,
        MAX32,
        MAX32,
        len(entry.name),
        20,
    )
    extra = struct.pack("<HHQQ", 0x0001, 16, entry.size, entry.size)
    return fixed + entry.name + extra


def descriptor(entry: Entry, crc: int) -> bytes:
    """The zip64 data descriptor after a member's bytes."""
    return struct.pack("<IIQQ", 0x08074B50, crc, entry.size, entry.size)


def central_header(entry: Entry, crc: int) -> bytes:
    """The central directory record of a member."""
    fixed = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        MADE_BY,
        VERSION,
        FLAGS,
        0,
        entry.dos_time,
        entry.dos_date,
        crc,
        MAX32,
        MAX32,
        len(entry.name),
        28,
        0,
        0,
        0,
        FILE_MODE,
        MAX32,
    )
    extra = struct.pack("<HHQQQ", 0x0001, 24, entry.size, entry.size, entry.offset)
    return fixed + entry.name + extra


def end_records(layout: Layout) -> bytes:
    """The zip64 end record, its locator and the classic end record."""
    count = len(layout.names)
    zip64_end = layout.central_start + layout.central_size
    records = struct.pack(
        "<IQHHIIQQQQ",
        0x06064B50,
        44,
        MADE_BY,
        VERSION,
        0,
        0,
        count,
        count,
        layout.central_size,
        layout.central_start,
    )
    locator = struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    end = struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        min(count, 0xFFFF),
        min(count, 0xFFFF),
        min(layout.central_size, MAX32),
        min(layout.central_start, MAX32),
        0,
    )
    return records + locator + end
