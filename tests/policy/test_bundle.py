"""The bundle writer's tar headers, its manifest's two copies, and the folders an archive
leaves behind."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from fairbeam.policy.archive import remove_empty_folders
from fairbeam.policy.bundle import (
    BundleError,
    _header,
    manifest_path,
    read_manifest,
    verify_bundle,
    write_bundle,
)
from fairbeam.policy.bundle import Source as BundleSource

NAMES = [
    "a",
    "scan0001/frames_0000.h5",
    "x" * 99,  # the longest name a plain ustar header holds
    "x" * 100,  # one more: a PAX record
    "deep/" * 30 + "file.h5",
    "détecteur/image.h5",  # not ASCII: a PAX record
    "with space/and-dash_1.2.h5",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [0, 1, 511, 512, 153_600, 8**11 - 1, 8**11])
def test_headers_are_what_tarfile_writes(name: str, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 1_764_000_000, 0o644
    expected = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    assert _header(name, size, 1_764_000_000.9) == expected


def test_a_bundle_is_read_by_tar(tmp_path: Path) -> None:
    """GNU tar lists and extracts a bundle whose members have either kind of header."""
    folder = tmp_path / "data"
    sources = []
    for number, name in enumerate(["scan0001/frames_0000.h5", "d" * 120 + "/é.h5"]):
        disk = folder / name
        disk.parent.mkdir(parents=True, exist_ok=True)
        disk.write_bytes(bytes([number]) * (700 + number))
        sources.append(BundleSource(number, name, disk, 700 + number, None))
    bundle = tmp_path / "bundle.tar"
    write_bundle(bundle, sources, {"dataset": 1}, "xxh3")
    listed = subprocess.run(["tar", "-tf", str(bundle)], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines() == [s.path for s in sources] + [".fairbeam/manifest.json"]
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", "-xf", str(bundle), "-C", str(out)], check=True)
    for source in sources:
        assert (out / source.path).read_bytes() == source.disk.read_bytes()


@pytest.mark.parametrize("damage", ["missing", "empty", "cut short"])
def test_a_lost_manifest_copy_is_taken_from_inside_the_bundle(tmp_path: Path, damage: str) -> None:
    """The manifest beside a bundle the archive wrote has no fsync of its own: after a
    crash it may be gone or cut short, and the one inside the bundle takes its place."""
    disk = tmp_path / "data" / "scan0001" / "frames_0000.h5"
    disk.parent.mkdir(parents=True)
    disk.write_bytes(b"frame" * 1000)
    bundle = tmp_path / "archive" / "bundle.tar"
    written = write_bundle(
        bundle,
        [BundleSource(7, "scan0001/frames_0000.h5", disk, 5000, None)],
        {"dataset": 3},
        "xxh3",
        in_place=True,
    )
    beside = manifest_path(bundle)
    whole = beside.read_bytes()
    if damage == "missing":
        beside.unlink()
    else:
        beside.write_bytes(b"" if damage == "empty" else whole[: len(whole) // 2])
    assert read_manifest(bundle) == written.manifest
    assert beside.read_bytes() == whole  # written beside again
    assert verify_bundle(bundle, written.checksum) == written.manifest
    # Where the copy cannot be written again (here a folder stands in its way, as a
    # read-only mount would), the one inside still serves.
    beside.unlink()
    beside.with_name(beside.name + ".part").mkdir()
    assert read_manifest(bundle) == written.manifest
    assert not beside.exists()
    bundle.write_bytes(b"not a tar")
    with pytest.raises(BundleError, match="nor the copy inside the bundle"):
        read_manifest(bundle)


def test_only_emptied_folders_inside_the_dataset_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    (folder / "scan0001").mkdir(parents=True)
    (folder / "scan0002" / "deeper").mkdir(parents=True)
    (folder / "scan0003").mkdir()
    (folder / "scan0003" / "kept.txt").write_text("someone else's")
    remove_empty_folders(
        folder, ["scan0001/a.h5", "scan0002/deeper/b.h5", "scan0003/c.h5", "../outside/d.h5"]
    )
    assert sorted(p.name for p in folder.iterdir()) == ["scan0003"]
    assert tmp_path.is_dir()
    remove_empty_folders(folder, ["scan0003/kept.txt"])
    assert folder.is_dir()  # not empty yet
    (folder / "scan0003" / "kept.txt").unlink()
    remove_empty_folders(folder, ["scan0003/kept.txt"])
    assert not folder.exists() and tmp_path.is_dir()
