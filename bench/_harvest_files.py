"""Write a beamline's raw data tree the way Bliss and Lima write it, for bench/harvest.py.

Layout (the ESRF's):
    visitor/{proposal}/{beamline}/{session}/RAW_DATA/{sample}/{sample}_{dataset}/
        {sample}_{dataset}.h5   the master file: scans "1.1" (ascan with the detector)
                                and "2.1" (loopscan of counters)
        eiger_0000.h5           the detector frames of scan 1.1, reached by an
                                external link from the master file
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h5py
import numpy as np

PROPOSAL = "ma6001"
BEAMLINE = "id11"
SESSION = "20250314"
FRAMES_FILE = "eiger_0000.h5"
FRAMES_PATH = "/entry_0000/measurement/data"


@dataclass(frozen=True)
class Tree:
    """What was written: the data root, its session folder and the totals."""

    root: Path
    session: Path
    datasets: int
    files: int
    bytes: int


def _text(group: h5py.Group, name: str, value: str) -> None:
    group.create_dataset(name, data=value, dtype=h5py.string_dtype())


def _nx(group: h5py.Group, nx_class: str) -> h5py.Group:
    group.attrs["NX_class"] = nx_class
    return group


def _with_units(group: h5py.Group, name: str, data: object, units: str) -> h5py.Dataset:
    dataset = group.create_dataset(name, data=data)
    dataset.attrs["units"] = units
    return dataset


def _write_frames(path: Path, frames: np.ndarray, start: datetime) -> None:
    """A Lima detector file: a stack of frames, one chunk per frame."""
    with h5py.File(path, "w") as handle:
        handle.attrs["NX_class"] = "NXroot"
        handle.attrs["creator"] = "LIMA-1.9.21"
        entry = _nx(handle.create_group("entry_0000"), "NXentry")
        _text(entry, "start_time", start.isoformat())
        instrument = _nx(entry.create_group("instrument"), "NXinstrument")
        detector = _nx(instrument.create_group("eiger"), "NXdetector")
        data = detector.create_dataset(
            "data", data=frames, chunks=(1, *frames.shape[1:]), dtype=frames.dtype
        )
        data.attrs["interpretation"] = "image"
        _text(detector, "type", "E-18-0102")
        measurement = _nx(entry.create_group("measurement"), "NXcollection")
        measurement["data"] = h5py.SoftLink("/entry_0000/instrument/eiger/data")


def _write_scan(
    handle: h5py.File,
    name: str,
    title: str,
    start: datetime,
    points: int,
    rng: np.random.Generator,
    sample: str,
    *,
    motor: str | None,
    frames: int,
) -> datetime:
    """One Bliss scan (an NXentry); returns its end time."""
    end = start + timedelta(seconds=0.1 * points + 1.5)
    entry = _nx(handle.create_group(name), "NXentry")
    entry.attrs["default"] = "plotselect"
    _text(entry, "title", title)
    _text(entry, "start_time", start.isoformat())
    _text(entry, "end_time", end.isoformat())
    instrument = _nx(entry.create_group("instrument"), "NXinstrument")
    _text(instrument, "name", BEAMLINE)
    source = _nx(instrument.create_group("source"), "NXsource")
    _text(source, "name", "ESRF")
    _text(source, "type", "Synchrotron X-ray Source")
    mono = _nx(instrument.create_group("monochromator"), "NXmonochromator")
    _with_units(mono, "energy", 17.0 + rng.random(), "keV")
    _with_units(mono, "wavelength", 0.7293, "angstrom")

    start_positions = {"samx": 1.25, "samy": -0.5, "samz": 3.1, "phi": 12.0, "energy": 17.0}
    units = {"samx": "mm", "samy": "mm", "samz": "mm", "phi": "deg", "energy": "keV"}
    positioners = _nx(instrument.create_group("positioners"), "NXcollection")
    positioners_start = _nx(instrument.create_group("positioners_start"), "NXcollection")
    for motor_name, value in start_positions.items():
        _with_units(positioners_start, motor_name, value + rng.random() * 0.01, units[motor_name])
        if motor_name == motor:
            values = np.linspace(value, value + 1.0, points)
        else:
            values = np.float64(value)
        _with_units(positioners, motor_name, values, units[motor_name])

    counters = {
        "diode1": rng.normal(1.0e4, 50.0, points),
        "mon": rng.normal(2.0e5, 100.0, points),
        "epoch": 1.7e9 + np.arange(points) * 0.1,
        "elapsed_time": np.arange(points) * 0.1,
    }
    measurement = _nx(entry.create_group("measurement"), "NXcollection")
    for counter, values in counters.items():
        detector = _nx(instrument.create_group(counter), "NXdetector")
        dataset = detector.create_dataset("data", data=values)
        dataset.attrs["units"] = "s" if counter in ("epoch", "elapsed_time") else "counts"
        measurement[counter] = h5py.SoftLink(f"/{name}/instrument/{counter}/data")
    if motor is not None:
        measurement[motor] = h5py.SoftLink(f"/{name}/instrument/positioners/{motor}")
    if frames:
        eiger = _nx(instrument.create_group("eiger"), "NXdetector")
        _text(eiger, "type", "lima")
        _with_units(eiger, "distance", 250.0, "mm")
        eiger["data"] = h5py.ExternalLink(FRAMES_FILE, FRAMES_PATH)
        measurement["eiger"] = h5py.ExternalLink(FRAMES_FILE, FRAMES_PATH)

    sample_group = _nx(entry.create_group("sample"), "NXsample")
    _text(sample_group, "name", sample)
    _text(sample_group, "chemical_formula", "Fe2O3")
    _with_units(sample_group, "temperature", 295.0, "K")

    plot = _nx(entry.create_group("plotselect"), "NXdata")
    axis = motor or "elapsed_time"
    plot.attrs["signal"] = "diode1"
    plot.attrs["axes"] = [axis]
    plot["diode1"] = h5py.SoftLink(f"/{name}/measurement/diode1")
    plot[axis] = h5py.SoftLink(f"/{name}/measurement/{axis}")
    return end


def write_dataset(
    folder: Path,
    sample: str,
    dataset: str,
    start: datetime,
    rng: np.random.Generator,
    frame_shape: tuple[int, int],
    frame_count: int,
) -> list[Path]:
    """One acquisition folder: the master file and its frames file; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    master = folder / f"{sample}_{dataset}.h5"
    frames_file = folder / FRAMES_FILE
    frames = rng.integers(0, 4096, size=(frame_count, *frame_shape), dtype=np.uint16)
    _write_frames(frames_file, frames, start)
    with h5py.File(master, "w") as handle:
        handle.attrs["NX_class"] = "NXroot"
        handle.attrs["creator"] = "Bliss"
        handle.attrs["publisher"] = "bliss"
        handle.attrs["publisher_version"] = "2.1.0"
        handle.attrs["file_name"] = str(master)
        handle.attrs["file_time"] = start.isoformat()
        handle.attrs["default"] = "1.1"
        end = _write_scan(
            handle,
            "1.1",
            f"ascan samy -0.5 0.5 {frame_count - 1} 0.1",
            start,
            frame_count,
            rng,
            sample,
            motor="samy",
            frames=frame_count,
        )
        _write_scan(
            handle,
            "2.1",
            "loopscan 10 0.1",
            end + timedelta(seconds=2),
            10,
            rng,
            sample,
            motor=None,
            frames=0,
        )
    return [master, frames_file]


def write_tree(
    root: Path,
    datasets: int,
    *,
    samples: int = 20,
    megabytes: float = 2.0,
    frame_side: int = 256,
    seed: int = 0,
) -> Tree:
    """Write ``datasets`` acquisition folders over ``samples`` sample folders under ``root``."""
    session = root / "visitor" / PROPOSAL / BEAMLINE / SESSION
    rng = np.random.default_rng(seed)
    frame_bytes = frame_side * frame_side * 2
    frame_count = max(2, round(megabytes * 1e6 / frame_bytes))
    start = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    samples = max(1, min(samples, datasets))
    files = 0
    size = 0
    for index in range(datasets):
        sample = f"sample{index % samples + 1:02d}"
        dataset = f"{index // samples + 1:04d}"
        folder = session / "RAW_DATA" / sample / f"{sample}_{dataset}"
        written = write_dataset(
            folder,
            sample,
            dataset,
            start + timedelta(minutes=3 * index),
            rng,
            (frame_side, frame_side),
            frame_count,
        )
        files += len(written)
        size += sum(path.stat().st_size for path in written)
    return Tree(root=root, session=session, datasets=datasets, files=files, bytes=size)
