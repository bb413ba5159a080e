"""An HDF5 file with one of everything the viewer serves, and its numpy truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import httpx
import numpy as np

RNG = np.random.default_rng(7)
STACK = RNG.poisson(4.0, (6, 32, 24)).astype("u2")
IMAGE = np.arange(20 * 30, dtype="i4").reshape(20, 30) - 250
LINE = np.linspace(-1.0, 1.0, 50)
LINE[3] = np.nan
HALF = np.linspace(0, 4, 12, dtype="f2").reshape(3, 4)
PARTIAL = np.arange(100 * 70, dtype="f4").reshape(100, 70)
NAMES = ["alpha", "beta", "γ"]
OTHER = np.arange(7, dtype="f8") * 1.5


def write_sample(folder: Path, outside: Path) -> Path:
    """Write sample.h5 (and the files it links to) into ``folder``; ``outside`` is a
    folder the server may not read, which some links point into."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / "other.h5", "w") as f:
        f["values"] = OTHER
    with h5py.File(outside / "secret.h5", "w") as f:
        f["values"] = np.arange(4)
    path = folder / "sample.h5"
    with h5py.File(path, "w") as f:
        f.attrs["default"] = "entry"
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["numbers"] = np.array([1, 2, 3], dtype="i8")
        entry.attrs["ratio"] = 0.25
        entry.attrs["label"] = b"bytes label"
        entry["line"] = LINE
        entry["image"] = IMAGE
        entry["half"] = HALF
        gzip: dict[str, Any] = {"compression": "gzip", "compression_opts": 4}
        entry.create_dataset("stack", data=STACK, chunks=(1, 32, 24), **gzip)
        entry.create_dataset("stack_shuffle", data=STACK, chunks=(1, 32, 24), shuffle=True, **gzip)
        entry.create_dataset("stack_rows", data=STACK, chunks=(1, 16, 24), **gzip)
        entry.create_dataset("stack_big", data=STACK.astype(">u2"), chunks=(1, 32, 24), **gzip)
        entry.create_dataset(
            "stack_bitshuffle", data=STACK, chunks=(1, 32, 24), **hdf5plugin.Bitshuffle()
        )
        entry.create_dataset("partial", data=PARTIAL, chunks=(64, 64), **gzip)
        entry.create_dataset("unwritten", shape=(4, 8, 8), dtype="u2", chunks=(1, 8, 8), **gzip)
        entry["scalar"] = 12.5
        entry["title"] = "lysozyme 100K"
        entry["names"] = NAMES
        entry["fixed"] = np.array([b"ab", b"cd"], dtype="S2")
        entry["stack"].attrs["units"] = "counts"
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        data.attrs["signal"] = "data"
        data["data"] = h5py.SoftLink("/entry/stack")
        entry["broken"] = h5py.SoftLink("/entry/nowhere")
        entry["external"] = h5py.ExternalLink("other.h5", "/values")
        entry["outside"] = h5py.ExternalLink(str(outside / "secret.h5"), "/values")
        layout = h5py.VirtualLayout(shape=(4,), dtype="i8")
        layout[:] = h5py.VirtualSource(str(outside / "secret.h5"), "values", shape=(4,))
        entry.create_virtual_dataset("virtual_outside", layout, fillvalue=-1)
    (folder / "notes.txt").write_text("not an HDF5 file\n")
    return path


DEFLATE = {"Accept-Encoding": "gzip, deflate, br"}


@dataclass
class Files:
    """Ids of the viewer's files in the catalogue, and where the sample is on disk."""

    sample: int
    notes: int
    closed_sample: int
    path: Path

    def url(self, endpoint: str, file_id: int | None = None) -> str:
        return f"/api/files/{file_id or self.sample}/h5/{endpoint}/"


def get(http: httpx.Client, h5: Files, endpoint: str, **params: Any) -> httpx.Response:
    headers = params.pop("headers", {})
    file_id = params.pop("file_id", None)
    return http.get(h5.url(endpoint, file_id), params=params, headers=headers)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()
