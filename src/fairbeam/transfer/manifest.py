"""Lists of a download's files for other tools: Metalink 4 (RFC 5854) for download
managers such as aria2, and plain paths under the data root for rsync or Globus."""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

from fairbeam import __version__
from fairbeam.db.base import utcnow
from fairbeam.errors import NotFound
from fairbeam.storage.checksums import split_checksum
from fairbeam.transfer.selection import Member, Selection

METALINK_NS = "urn:ietf:params:xml:ns:metalink"
# Checksums Metalink has no name for (xxh3) go in an element of this namespace, which
# RFC 5854 §4.2.9 lets a reader ignore; sha256 is Metalink's `sha-256`.
FAIRBEAM_NS = "https://fairbeam.dev/ns/metalink"
METALINK_HASHES = {"sha256": "sha-256", "sha512": "sha-512", "sha1": "sha-1", "md5": "md5"}
METALINK_TYPE = "application/metalink4+xml"


def _file(member: Member, base_url: str) -> str:
    lines = [f"  <file name={quoteattr(member.name)}>", f"    <size>{member.size}</size>"]
    if member.checksum:
        algorithm, digest = split_checksum(member.checksum)
        hash_type = METALINK_HASHES.get(algorithm)
        if hash_type:
            lines.append(f'    <hash type="{hash_type}">{escape(digest.lower())}</hash>')
        else:
            lines.append(f"    <fb:checksum>{escape(member.checksum)}</fb:checksum>")
    url = f"{base_url}api/files/{member.file_id}/content"
    lines += [f'    <url priority="1">{escape(url)}</url>', "  </file>"]
    return "\n".join(lines) + "\n"


def metalink(selection: Selection, base_url: str) -> Iterator[bytes]:
    """The Metalink 4 document of the selection, a few files at a time."""
    published = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<metalink xmlns="{METALINK_NS}" xmlns:fb="{FAIRBEAM_NS}">\n'
        f"  <generator>fairbeam/{__version__}</generator>\n"
        f"  <published>{published}</published>\n"
    ).encode()
    batch: list[str] = []
    for member in selection.members:
        batch.append(_file(member, base_url))
        if len(batch) == 1000:
            yield "".join(batch).encode()
            batch = []
    yield ("".join(batch) + "</metalink>\n").encode()


def path_list(selection: Selection) -> Iterator[bytes]:
    """One path a line, relative to the data root the files lie under (`rsync --files-from`)."""
    missing = next((m for m in selection.members if m.relative is None), None)
    if missing is not None:
        raise NotFound(f"file {missing.file_id} is not under a data root of this server")
    batch: list[str] = []
    for member in selection.members:
        batch.append(f"{member.relative}\n")
        if len(batch) == 5000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()
