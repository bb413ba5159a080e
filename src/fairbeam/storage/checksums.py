"""File checksums, computed while streaming the file once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol

import xxhash

from fairbeam.errors import InvalidInput

ALGORITHMS = ("xxh3", "sha256")
CHUNK = 4 * 1024 * 1024


class Hasher(Protocol):
    def update(self, data: Any, /) -> Any: ...
    def hexdigest(self) -> str: ...


def new_hasher(algorithm: str) -> Hasher:
    """A fresh hasher of ``algorithm`` (xxh3 or sha256), to feed bytes as they pass."""
    if algorithm == "xxh3":
        return xxhash.xxh3_128()
    if algorithm == "sha256":
        return hashlib.sha256()
    raise InvalidInput(f"checksum {algorithm!r} is not known; use one of {', '.join(ALGORITHMS)}")


def file_checksum(path: Path, algorithm: str = "xxh3") -> str:
    """``ALGORITHM:HEX`` of the file's bytes, read once in large chunks."""
    hasher = new_hasher(algorithm)
    with path.open("rb", buffering=0) as handle:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            hasher.update(view[:count])
    return f"{algorithm}:{hasher.hexdigest()}"


def split_checksum(value: str) -> tuple[str, str]:
    """(algorithm, hex) of a stored checksum; a bare hex value is taken as unknown."""
    algorithm, sep, digest = value.partition(":")
    return (algorithm, digest) if sep else ("", value)
