"""Archive bundles on disk: one uncompressed tar per dataset with a JSON manifest of every
file's path, size, checksum and offset, inside the tar (its last member) and beside it.

Detector data is already compressed, so the tar only concatenates. Each file is read
once: its bytes are hashed as they are copied into the tar. Reading back is one
sequential read of the bundle that hashes every file's byte range; a restore copies
each range out. Any tar tool reads a bundle (``tar -xf`` recovers a dataset by hand).
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from fairbeam.errors import FairbeamError
from fairbeam.storage.checksums import CHUNK, Hasher, new_hasher, split_checksum

FORMAT = "fairbeam-bundle/1"
MANIFEST_MEMBER = ".fairbeam/manifest.json"
BLOCK = 512


class BundleError(FairbeamError):
    """A bundle could not be written, or does not hold what its manifest says."""

    status_code = 409


@dataclass(frozen=True)
class Source:
    """A file to pack: its path inside the dataset, on disk, and what the catalogue knows."""

    file_id: int
    path: str
    disk: Path
    size: int
    checksum: str | None  # the catalogue's, checked while packing when present


@dataclass(frozen=True)
class Written:
    """What writing a bundle produced."""

    manifest: dict[str, Any]
    size: int  # bytes of data inside
    bundle_size: int
    checksum: str  # of the whole bundle file


def manifest_path(bundle: Path) -> Path:
    """The manifest beside a bundle."""
    return bundle.with_name(bundle.name.removesuffix(".tar") + ".manifest.json")


def fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folders(folders: Iterable[Path]) -> None:
    """Make the renames and unlinks in each of ``folders`` durable, once per folder."""
    for folder in sorted(set(folders), key=lambda f: len(f.parts), reverse=True):
        fsync_folder(folder)


def durable_write(target: Path, data: bytes, sync_folder: bool = True) -> None:
    """Write ``data`` to ``target`` through a temporary name, fsynced, then renamed (the
    rename made durable here, or by the caller's fsync of the folder when not
    ``sync_folder``)."""
    part = target.with_name(target.name + ".part")
    _write_synced(part, data)
    part.replace(target)
    if sync_folder:
        fsync_folder(target.parent)


# A plain ustar header, as tarfile writes one for a short ASCII name (every field but the
# name, size, mtime and checksum is the same for every member a bundle holds).
_USTAR = bytearray(BLOCK)
_USTAR[100:124] = b"0000644\x000000000\x000000000\x00"  # mode, uid, gid
_USTAR[148:157] = b"        0"  # checksum (spaces while it is summed), regular file
_USTAR[257:265] = b"ustar\x0000"
_SHORT = 8**11  # what 11 octal digits hold


def _header(name: str, size: int, mtime: float) -> bytes:
    """The tar header of a member: built here for a short ASCII name (byte for byte what
    tarfile makes, in a fraction of its time), by tarfile with PAX records otherwise."""
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) < 100 and encoded.isascii() and size < _SHORT and 0 <= mtime < _SHORT:
        block = _USTAR.copy()
        block[: len(encoded)] = encoded
        block[124:148] = b"%011o\x00%011o\x00" % (size, int(mtime))
        block[148:155] = b"%06o\x00" % sum(block)
        return bytes(block)
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


class _Out:
    """The bundle being written: counts and hashes every byte that goes in, and gathers
    small pieces (headers, small files, padding) into writes of up to CHUNK bytes: a
    dataset of a few small files is one write instead of a dozen, each of which would
    hand the interpreter's lock to another thread and back."""

    def __init__(self, handle: BinaryIO, algorithm: str) -> None:
        self.handle = handle
        self.offset = 0
        self.whole = new_hasher(algorithm)
        self.pending = bytearray()

    def write(self, data: bytes | memoryview) -> None:
        self.whole.update(data)
        self.offset += len(data)
        if len(self.pending) + len(data) > CHUNK:
            self.flush()
        if len(data) >= CHUNK:
            self.handle.write(data)
        else:
            self.pending += data

    def flush(self) -> None:
        """Write what is gathered."""
        if self.pending:
            self.handle.write(self.pending)
            self.pending.clear()


def _copy_in(out: _Out, source: Source, hashers: list[Hasher]) -> int:
    """Copy one file into the bundle, hashing it; the bytes copied."""
    copied = 0
    buffer = bytearray(max(1, min(CHUNK, source.size)))
    view = memoryview(buffer)
    with source.disk.open("rb", buffering=0) as handle:
        while copied < source.size:
            count = handle.readinto(view[: min(CHUNK, source.size - copied)])
            if not count:
                break
            chunk = view[:count]
            for hasher in hashers:
                hasher.update(chunk)
            out.write(chunk)
            copied += count
    return copied


def _pack_one(out: _Out, source: Source, algorithm: str) -> dict[str, Any]:
    """Append one file to the bundle; its manifest entry. Raises BundleError when the
    file changed under us or differs from the catalogue's checksum."""
    stat = source.disk.stat()
    if stat.st_size != source.size:
        raise BundleError(
            f"file {source.file_id} ({source.path}) is {stat.st_size} bytes on disk but "
            f"{source.size} in the catalogue: not archived"
        )
    out.write(_header(source.path, source.size, stat.st_mtime))
    offset = out.offset
    hashers = [new_hasher(algorithm)]
    known_algorithm, known = split_checksum(source.checksum or "")
    if known and known_algorithm and known_algorithm != algorithm:
        hashers.append(new_hasher(known_algorithm))
    copied = _copy_in(out, source, hashers)
    if copied != source.size:
        raise BundleError(f"file {source.file_id} ({source.path}) shrank while it was packed")
    out.write(_padding(source.size))
    digests = {algorithm: hashers[0].hexdigest()}
    if len(hashers) > 1:
        digests[known_algorithm] = hashers[1].hexdigest()
    if known and known_algorithm in digests and digests[known_algorithm] != known:
        raise BundleError(
            f"file {source.file_id} ({source.path}) does not match the catalogue's checksum "
            f"{source.checksum}: it changed since it was registered; not archived"
        )
    return {
        "file_id": source.file_id,
        "path": source.path,
        "size": source.size,
        "checksum": f"{algorithm}:{digests[algorithm]}",
        "offset": offset,
    }


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_bundle(
    target: Path,
    sources: Iterable[Source],
    header: dict[str, Any],
    algorithm: str,
    sync_folder: bool = True,
    in_place: bool = False,
) -> Written:
    """Write the bundle at ``target`` and its manifest beside it, each fsynced; what was
    written is removed when anything fails. Each is written through ``.part`` and
    renamed, unless ``in_place``: for a caller whose own record (a bundle in state
    packing) already says the files may be incomplete until it commits them as written.
    Without ``sync_folder`` the caller makes the new names durable with
    ``fsync_folders`` (once for a batch of bundles) before it relies on them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target if in_place else target.with_name(target.name + ".part")
    files: list[dict[str, Any]] = []
    try:
        with part.open("wb") as handle:
            out = _Out(handle, algorithm)
            for source in sources:
                files.append(_pack_one(out, source, algorithm))
            manifest = {**header, "format": FORMAT, "algorithm": algorithm, "files": files}
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            out.write(_header(MANIFEST_MEMBER, len(data), 0))
            out.write(data + _padding(len(data)))
            out.write(b"\0" * (2 * BLOCK))
            out.flush()
            handle.flush()
            os.fsync(handle.fileno())
        if in_place:
            # No fsync of its own: the bundle, fsynced above, holds the same manifest as
            # its last member, and read_manifest takes it from there if this copy was
            # lost in a crash.
            manifest_path(target).write_bytes(data)
    except BaseException:
        for path in (part, manifest_path(target)) if in_place else (part,):
            path.unlink(missing_ok=True)
        raise
    if not in_place:
        part.replace(target)
        durable_write(manifest_path(target), data, sync_folder)
    if sync_folder:
        fsync_folder(target.parent)
        fsync_folder(target.parent.parent)  # the bundle's folder may be new
    return Written(
        manifest=manifest,
        size=sum(f["size"] for f in files),
        bundle_size=out.offset,
        checksum=f"{algorithm}:{out.whole.hexdigest()}",
    )


def read_manifest(bundle: Path) -> dict[str, Any]:
    """The manifest beside a bundle. When that copy is missing or damaged (a bundle's
    writer does not fsync it), the one inside the bundle, which is then written beside
    it again where the archive's folder may be written."""
    try:
        manifest: dict[str, Any] = json.loads(manifest_path(bundle).read_bytes())
        return manifest
    except (OSError, ValueError) as exc:
        beside = exc
    try:
        with tarfile.open(bundle, "r:") as tar:
            inside = tar.extractfile(MANIFEST_MEMBER)
            data = inside.read() if inside is not None else b""
        manifest = json.loads(data)
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BundleError(
            f"the manifest of bundle {bundle} cannot be read: {beside}; nor the copy "
            f"inside the bundle: {exc}"
        ) from exc
    try:
        durable_write(manifest_path(bundle), data)
    except OSError:
        pass  # a read-only archive mount: the copy inside serves every read
    return manifest


def _ranges_digests(
    bundle: Path, files: list[dict[str, Any]], algorithm: str
) -> tuple[str, list[str]]:
    """One sequential read of the bundle: the whole file's checksum and each file's."""
    order = sorted(range(len(files)), key=lambda i: files[i]["offset"])
    hashers = [new_hasher(algorithm) for _ in files]
    whole = new_hasher(algorithm)
    position, index = 0, 0
    with bundle.open("rb", buffering=0) as handle:
        buffer = bytearray(max(1, min(CHUNK, os.fstat(handle.fileno()).st_size)))
        view = memoryview(buffer)
        while count := handle.readinto(buffer):
            chunk, start, end = view[:count], position, position + count
            whole.update(chunk)
            while index < len(order):
                entry = files[order[index]]
                low, high = max(entry["offset"], start), min(entry["offset"] + entry["size"], end)
                if high > low:
                    hashers[order[index]].update(chunk[low - start : high - start])
                if entry["offset"] + entry["size"] > end:
                    break
                index += 1
            position = end
    return f"{algorithm}:{whole.hexdigest()}", [f"{algorithm}:{h.hexdigest()}" for h in hashers]


def verify_bundle(bundle: Path, checksum: str | None = None) -> dict[str, Any]:
    """Read the bundle back: every file's bytes match the manifest, and the whole file
    matches ``checksum`` (what was written) or, without one, the tar lists exactly the
    manifest's files and the manifest inside equals the one beside; the manifest."""
    manifest = read_manifest(bundle)
    files, algorithm = manifest["files"], manifest["algorithm"]
    try:
        whole, digests = _ranges_digests(bundle, files, algorithm)
    except OSError as exc:
        raise BundleError(f"bundle {bundle} cannot be read back: {exc}") from exc
    bad = [f["path"] for f, digest in zip(files, digests, strict=True) if digest != f["checksum"]]
    if bad:
        raise BundleError(
            f"bundle {bundle} does not match its manifest: {len(bad)} file(s) differ, "
            f"first {bad[0]!r}"
        )
    if checksum is not None:
        if whole != checksum:
            raise BundleError(f"bundle {bundle} changed since it was written (checksum {whole})")
        # Byte for byte what write_bundle wrote, which lists the manifest's files and
        # then the manifest: reading the tar's headers again would prove nothing more.
        return manifest
    try:
        with tarfile.open(bundle, "r:") as tar:
            names = tar.getnames()
            inside = tar.extractfile(MANIFEST_MEMBER)
            copy = json.loads(inside.read()) if inside is not None else None
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BundleError(f"bundle {bundle} is not a readable tar: {exc}") from exc
    if names != [*[f["path"] for f in files], MANIFEST_MEMBER] or copy != manifest:
        raise BundleError(
            f"bundle {bundle}: its members or inner manifest differ from the manifest"
        )
    return manifest


def extract_file(bundle: BinaryIO, entry: dict[str, Any], target: Path, algorithm: str) -> None:
    """Copy one file out of an open bundle to ``target`` through a temporary name,
    checked against its manifest entry before it takes its name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".fairbeam-restore")
    hasher = new_hasher(algorithm)
    remaining = entry["size"]
    bundle.seek(entry["offset"])
    with part.open("wb") as out:
        while remaining:
            data = bundle.read(min(CHUNK, remaining))
            if not data:
                break
            hasher.update(data)
            out.write(data)
            remaining -= len(data)
        out.flush()
        os.fsync(out.fileno())
    if remaining or f"{algorithm}:{hasher.hexdigest()}" != entry["checksum"]:
        part.unlink(missing_ok=True)
        raise BundleError(f"{entry['path']} read from the bundle does not match its manifest")
    part.replace(target)


def bundle_files(bundle: Path) -> tuple[Path, ...]:
    """A bundle, its manifest and the partial files a killed pass may leave of both."""
    manifest = manifest_path(bundle)
    return (
        bundle,
        manifest,
        bundle.with_name(bundle.name + ".part"),
        manifest.with_name(manifest.name + ".part"),
    )


def remove_bundle(bundle: Path, sync_folder: bool = True) -> bool:
    """Delete a bundle, its manifest and any partial file left by a killed pass (durably,
    unless the caller fsyncs the folder); whether there was anything to delete."""
    removed = False
    for path in bundle_files(bundle):
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            pass
    if removed and sync_folder:
        fsync_folder(bundle.parent)
    return removed
