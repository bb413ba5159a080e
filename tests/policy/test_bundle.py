"""The bundle writer's tar headers and the folders an archive leaves behind."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from fairbeam.policy.archive import remove_empty_folders
from fairbeam.policy.bundle import Source as BundleSource
from fairbeam.policy.bundle import _header, write_bundle

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
