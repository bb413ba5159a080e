"""Paths found once per open file, and never past an external link; attributes in name
order straight from HDF5's index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

from fairbeam.viewer.files import FileCache, Link, Navigator, Node
from fairbeam.viewer.metadata import attributes_metadata


def write_linked(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / "other.h5", "w") as f:
        f["values"] = np.arange(7)
    path = folder / "main.h5"
    with h5py.File(path, "w") as f:
        f.create_group("entry/instrument/detector")["data"] = np.zeros((2, 3), "u2")
        f["entry/soft"] = h5py.SoftLink("/entry/instrument/detector/data")
        f["entry/external"] = h5py.ExternalLink("other.h5", "/values")
    return path


def test_a_path_inside_the_file_is_walked_once_per_open_file(tmp_path: Path) -> None:
    path = write_linked(tmp_path / "data")
    cache = FileCache()
    with Navigator([tmp_path / "data"], cache) as navigator:
        root = navigator.open(path)
        deep = navigator.find(root, "/entry/instrument/detector/data")
        soft = navigator.find(root, "/entry/soft")
        assert isinstance(deep, h5py.Dataset) and deep.shape == (2, 3)
        assert isinstance(soft, h5py.Dataset) and soft.name == deep.name
    with Navigator([tmp_path / "data"], cache) as navigator:
        root = navigator.open(path)
        assert navigator.find(root, "/entry/instrument/detector/data") is deep
        assert navigator.find(root, "/entry/soft") is soft
        # Each way of resolving links is its own lookup.
        link = navigator.find(root, "/entry/soft", resolve="none")
        assert isinstance(link, h5py.SoftLink)
    cache.clear()


def find(cache: FileCache, path: Path, inside: str) -> Node | Link:
    """What a request's navigator finds at ``inside`` the file at ``path``."""
    with Navigator([path.parent], cache) as navigator:
        return navigator.find(navigator.open(path), inside)


def test_what_an_external_link_reaches_is_looked_up_every_time(tmp_path: Path) -> None:
    path = write_linked(tmp_path / "data")
    cache = FileCache()
    found = find(cache, path, "/entry/external")
    assert isinstance(found, h5py.Dataset) and found.shape == (7,)
    (tmp_path / "data" / "other.h5").unlink()
    assert isinstance(find(cache, path, "/entry/external"), h5py.ExternalLink)
    cache.clear()


def test_a_changed_file_forgets_its_paths(tmp_path: Path) -> None:
    path = write_linked(tmp_path / "data")
    cache = FileCache()
    before = find(cache, path, "/entry/instrument/detector/data")
    assert isinstance(before, h5py.Dataset) and before.shape == (2, 3)
    # Written by another process, as acquisition would (this one holds the file open).
    code = (
        "import h5py, sys; f = h5py.File(sys.argv[1], 'a'); "
        "del f['entry/instrument/detector/data']; f['entry/instrument/detector/data'] = [1.0] * 5"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
    os.utime(path, ns=(1, 1))  # a new modification time, even within the clock's tick
    after = find(cache, path, "/entry/instrument/detector/data")
    assert isinstance(after, h5py.Dataset) and after.shape == (5,)
    cache.clear()


def test_attributes_come_in_name_order_however_they_are_stored(tmp_path: Path) -> None:
    names = ["zeta", "Alpha", "beta", "γ", "NX_class", "a b", "_x", "B"]
    with h5py.File(tmp_path / "attrs.h5", "w") as f:
        compact = f.create_group("compact")
        for i, name in enumerate(names):
            compact.attrs[name] = np.arange(i + 1)
        # Past 8 attributes (and with creation order tracked) HDF5 keeps them in a B-tree.
        dense = f.create_group("dense", track_order=True)
        for i in range(40):
            dense.attrs[f"key{39 - i:02d}"] = float(i)
        dense.attrs["γ"] = "text"
        for group in (compact, dense):
            found = attributes_metadata(group)
            assert [a["name"] for a in found] == sorted(group.attrs.keys())
            for described in found:
                value = np.asarray(group.attrs[described["name"]])
                assert tuple(described["shape"]) == value.shape
        assert attributes_metadata(compact)[0]["type"]["dtype"] == "<i8"
