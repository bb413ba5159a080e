"""A zip of catalogue files streamed as it is read: a worker thread reads each member,
computes its CRC on the way and hands blocks to the event loop; any byte window of the
archive can be produced, so a download resumes with `Range`."""

from __future__ import annotations

import errno
import os
import threading
import zlib
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread

from fairbeam.errors import NotFound
from fairbeam.transfer.selection import Member
from fairbeam.transfer.sending import BLOCK, BodyChanged
from fairbeam.transfer.zipformat import (
    CENTRAL_FIXED,
    Entry,
    Layout,
    central_header,
    descriptor,
    end_records,
    local_header,
)

CACHE_ENTRIES = 250_000


class CrcCache:
    """CRC-32 of files already streamed, so a resumed download need not read them again.

    One int per file (its CRC and a 32-bit stamp of its size and time): a quarter of a
    million files take a few tens of megabytes."""

    def __init__(self, capacity: int = CACHE_ENTRIES) -> None:
        self.capacity = capacity
        self.values: OrderedDict[int, int] = OrderedDict()
        self.lock = threading.Lock()

    @staticmethod
    def _stamp(size: int, mtime_ns: int) -> int:
        return hash((size, mtime_ns)) & 0xFFFFFFFF

    def get(self, file_id: int, size: int, mtime_ns: int) -> int | None:
        """The CRC of the file when it has not changed since it was computed."""
        with self.lock:
            found = self.values.get(file_id)
            if found is None or found >> 32 != self._stamp(size, mtime_ns):
                return None
            self.values.move_to_end(file_id)
            return found & 0xFFFFFFFF

    def put(self, file_id: int, size: int, mtime_ns: int, crc: int) -> None:
        """Remember a file's CRC, forgetting the least recently used beyond capacity."""
        with self.lock:
            self.values[file_id] = self._stamp(size, mtime_ns) << 32 | crc
            self.values.move_to_end(file_id)
            while len(self.values) > self.capacity:
                self.values.popitem(last=False)


CRCS = CrcCache()


class MemberReader:
    """Opens members inside the servable folders, each folder's real path checked once."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots
        self.folders: dict[str, bool] = {}

    def _inside(self, path: str) -> bool:
        real = Path(os.path.realpath(path))
        return any(real.is_relative_to(root) for root in self.roots)

    def open(self, member: Member) -> tuple[int, int]:
        """A descriptor of the member's file and its modification time (ns)."""
        path = member.path
        parent = os.path.dirname(path)
        if parent not in self.folders:
            self.folders[parent] = self._inside(parent)
        if not self.folders[parent]:
            raise NotFound(f"file {member.file_id} is not in a folder this server may read")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno != errno.ELOOP or not self._inside(path):
                raise BodyChanged(f"file {member.file_id} cannot be read: {exc}") from exc
            fd = os.open(path, os.O_RDONLY)
        stat = os.fstat(fd)
        if stat.st_size != member.size:
            os.close(fd)
            raise BodyChanged(
                f"file {member.file_id} holds {stat.st_size} bytes, the catalogue {member.size}"
            )
        return fd, stat.st_mtime_ns


def _chunks(fd: int, start: int, stop: int) -> Iterator[bytes]:
    offset = start
    while offset < stop:
        data = os.pread(fd, min(BLOCK, stop - offset), offset)
        if not data:
            raise BodyChanged(f"a file ended at byte {offset}, before the bytes promised")
        offset += len(data)
        yield data


class ArchiveWriter:
    """Produces any byte window of the archive of ``members`` laid out as ``layout``."""

    def __init__(self, members: list[Member], layout: Layout, roots: list[Path]) -> None:
        self.members = members
        self.layout = layout
        self.reader = MemberReader(roots)
        self.crcs = array("q", [-1]) * len(members)

    def crc(self, index: int) -> int:
        """The CRC of member ``index``: known, cached, or read now."""
        if self.crcs[index] >= 0:
            return self.crcs[index]
        member = self.members[index]
        fd, mtime = self.reader.open(member)
        try:
            value = CRCS.get(member.file_id, member.size, mtime)
            if value is None:
                value = 0
                for data in _chunks(fd, 0, member.size):
                    value = zlib.crc32(data, value)
                CRCS.put(member.file_id, member.size, mtime, value)
        finally:
            os.close(fd)
        self.crcs[index] = value
        return value

    def _small(self, index: int, entry: Entry) -> tuple[bytes, bytes, bytes]:
        """A whole member read in one call: most members of large datasets are small."""
        member = self.members[index]
        data = b""
        value = 0
        if entry.size:
            fd, mtime = self.reader.open(member)
            try:
                data = os.pread(fd, entry.size, 0)
            finally:
                os.close(fd)
            if len(data) != entry.size:
                raise BodyChanged(f"file {member.file_id} ended before its {entry.size} bytes")
            value = zlib.crc32(data)
            self.crcs[index] = value
            CRCS.put(member.file_id, entry.size, mtime, value)
        return local_header(entry), data, descriptor(entry, value)

    def _member(self, index: int, entry: Entry, start: int, stop: int) -> Iterator[bytes]:
        header = local_header(entry)
        if start < entry.data_start:
            yield header[max(start - entry.offset, 0) : stop - entry.offset]
        data_end = entry.data_start + entry.size
        lo, hi = max(start, entry.data_start), min(stop, data_end)
        whole = lo == entry.data_start and hi == data_end
        if entry.size and lo < hi:
            member = self.members[index]
            fd, mtime = self.reader.open(member)
            try:
                value = 0
                for data in _chunks(fd, lo - entry.data_start, hi - entry.data_start):
                    if whole:
                        value = zlib.crc32(data, value)
                    yield data
            finally:
                os.close(fd)
            if whole:
                self.crcs[index] = value
                CRCS.put(member.file_id, member.size, mtime, value)
        if stop > data_end:
            record = descriptor(entry, self.crc(index) if entry.size else 0)
            yield record[max(start, data_end) - data_end : stop - data_end]

    def _central(self, start: int, stop: int) -> Iterator[bytes]:
        position = self.layout.central_start
        for index, name in enumerate(self.layout.names):
            length = CENTRAL_FIXED + len(name)
            if position + length > start:
                entry = self.layout.entry(index)
                record = central_header(entry, self.crc(index) if entry.size else 0)
                yield record[max(start - position, 0) : stop - position]
            position += length
            if position >= stop:
                return
        tail = end_records(self.layout)
        yield tail[max(start - position, 0) : stop - position]

    def pieces(self, start: int, stop: int) -> Iterator[bytes]:
        """The archive's bytes from ``start`` up to ``stop`` (exclusive), piece by piece."""
        layout = self.layout
        for index in range(layout.first_ending_after(start), len(layout.names)):
            if layout.offsets[index] >= stop:
                return
            entry = layout.entry(index)
            if entry.offset >= start and entry.end <= stop and entry.size <= BLOCK:
                yield from self._small(index, entry)
            elif entry.end > start:
                yield from self._member(index, entry, start, stop)
        if stop > layout.central_start:
            yield from self._central(start, stop)

    def blocks(self, start: int, stop: int) -> Iterator[bytes]:
        """The same bytes gathered into blocks of about BLOCK bytes."""
        gathered: list[bytes] = []
        size = 0
        for piece in self.pieces(start, stop):
            if len(piece) >= BLOCK and not gathered:
                yield piece
                continue
            gathered.append(piece)
            size += len(piece)
            if size >= BLOCK:
                yield b"".join(gathered)
                gathered, size = [], 0
        if gathered:
            yield b"".join(gathered)


async def stream_archive(writer: ArchiveWriter, start: int, stop: int) -> AsyncIterator[bytes]:
    """The archive's bytes in [start, stop), read in a worker thread two blocks ahead."""
    send, receive = anyio.create_memory_object_stream[bytes](max_buffer_size=2)

    def produce() -> None:
        with send:
            for block in writer.blocks(start, stop):
                anyio.from_thread.run(send.send, block)

    async with anyio.create_task_group() as group:

        async def run() -> None:
            try:
                await anyio.to_thread.run_sync(produce)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the client went away and the body was dropped

        group.start_soon(run)
        with receive:
            async for block in receive:
                yield block
