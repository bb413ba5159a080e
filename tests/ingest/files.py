"""Writers of HDF5/NeXus files as facilities write them, good and bad, for harvest tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import numpy as np

START = "2024-05-06T08:30:00+02:00"
END = "2024-05-06T08:45:10+02:00"


def group(parent: h5py.Group, name: str, nx_class: str | None, *, as_bytes: bool = False) -> Any:
    """Create a group with its NX_class attribute (as bytes when `as_bytes`, as some writers do)."""
    created = parent.require_group(name)
    if nx_class:
        created.attrs["NX_class"] = nx_class.encode() if as_bytes else nx_class
    return created


def field(parent: h5py.Group, name: str, value: Any, units: str | None = None, **kw: Any) -> Any:
    """Create a field, with a `units` attribute when given."""
    dataset = parent.create_dataset(name, data=value, **kw)
    if units is not None:
        dataset.attrs["units"] = units
    return dataset


def entry(f: h5py.File, name: str, title: str, *, as_bytes: bool = False) -> Any:
    """Create an NXentry with title and start and end times."""
    created = group(f, name, "NXentry", as_bytes=as_bytes)
    created["title"] = title
    created["start_time"] = START
    created["end_time"] = END
    return created


def add_user(parent: h5py.Group, name: str, person: str, role: str, email: str) -> None:
    """Add an NXuser with a name, role, affiliation, ORCID and an e-mail that must not leak."""
    user = group(parent, name, "NXuser")
    user["name"] = person
    user["role"] = role
    user["affiliation"] = "Institute of Crystals"
    user["email"] = email
    user["ORCID"] = "0000-0002-1825-0097"


def write_mx_nexus(path: Path, *, frames: int = 20) -> Path:
    """Write an NXmx file as a macromolecular crystallography beamline does."""
    with h5py.File(path, "w") as f:
        f.attrs["default"] = "entry"
        e = entry(f, "entry", "lysozyme 100K")
        e.attrs["default"] = "data"
        e["definition"] = "NXmx"
        e["experiment_identifier"] = "mx1234"
        e["program_name"] = "GDA 9.3"
        add_user(e, "user_1", "Ada Crystal", "principal_investigator", "ada@example.org")
        add_user(e, "user_2", "Bo Beam", "local_contact", "bo@example.org")
        inst = group(e, "instrument", "NXinstrument")
        inst["name"] = "ID23-1"
        source = group(inst, "source", "NXsource")
        source["name"] = "ESRF"
        source["type"] = "Synchrotron X-ray Source"
        source["probe"] = "x-ray"
        field(source, "current", 199.5, "mA")
        mono = group(inst, "monochromator", "NXmonochromator")
        field(mono, "energy", 12.7, "keV")
        field(mono, "wavelength", np.float32(0.9763), "angstrom")
        beam = group(inst, "beam", "NXbeam")
        field(beam, "incident_beam_size", [0.05, 0.02], "mm")
        field(beam, "flux", 3.2e12, "1/s")
        att = group(inst, "attenuator", "NXattenuator")
        field(att, "attenuator_transmission", 0.25, "")
        det = group(inst, "eiger", "NXdetector")
        det["type"] = np.bytes_(b"Pixel")
        det["description"] = "Dectris Eiger2 X 16M"
        field(det, "distance", 250.0, "mm")
        field(det, "count_time", np.float64(0.01), "s")
        field(det, "x_pixel_size", 7.5e-5, "m")
        field(det, "y_pixel_size", 7.5e-5, "m")
        field(det, "data", np.zeros((frames, 16, 16), dtype="u2"), "counts")
        sample = group(e, "sample", "NXsample")
        sample["name"] = "lysozyme"
        sample["chemical_formula"] = "C613H959N193O185S10"
        field(sample, "temperature", np.int32(100), "K")
        field(sample, "omega", np.linspace(0.0, 0.1 * (frames - 1), frames), "deg")
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = "data"
        data.attrs["axes"] = [".", ".", "."]
        data["data"] = h5py.SoftLink("/entry/instrument/eiger/data")
    return path


def write_bliss_multiscan(
    path: Path, scans: int = 3, *, points: int = 11, sample: str = "sample1", frames: bool = False
) -> Path:
    """Write a Bliss dataset file: entries "1.1", "2.1"...; frames go to external files."""
    with h5py.File(path, "w") as f:
        for number in range(1, scans + 1):
            e = entry(f, f"{number}.1", f"ascan samy 0 1 {points - 1} 0.1")
            e.attrs["default"] = "plotselect"
            inst = group(e, "instrument", "NXinstrument")
            pos = group(inst, "positioners", "NXcollection")
            field(pos, "samy", np.linspace(0.0, 1.0, points), "mm")
            field(pos, "sampz", 3.5 + number, "mm")
            field(pos, "energy", 17.0, "keV")
            diode = group(inst, "diode", "NXdetector")
            field(diode, "data", np.arange(points, dtype="f8") * number)
            field(group(inst, "epoch", None), "data", 1.7e9 + np.arange(points), "s")
            meas = group(e, "measurement", "NXcollection")
            meas["diode"] = h5py.SoftLink(f"/{number}.1/instrument/diode/data")
            meas["samy"] = h5py.SoftLink(f"/{number}.1/instrument/positioners/samy")
            meas["epoch"] = h5py.SoftLink(f"/{number}.1/instrument/epoch/data")
            plot = group(e, "plotselect", "NXdata")
            plot.attrs["signal"] = "diode"
            plot.attrs["axes"] = ["samy"]
            plot["diode"] = h5py.SoftLink(f"/{number}.1/instrument/diode/data")
            plot["samy"] = h5py.SoftLink(f"/{number}.1/instrument/positioners/samy")
            smp = group(e, "sample", "NXsample")
            smp["name"] = sample
            if frames:
                frames_file = path.with_name(f"{path.stem}_eiger_{number:04d}.h5")
                with h5py.File(frames_file, "w") as ff:
                    ff["entry/data/data"] = np.ones((points, 8, 8), dtype="u2")
                eiger = group(inst, "eiger", "NXdetector")
                eiger["data"] = h5py.ExternalLink(frames_file.name, "/entry/data/data")
                meas["eiger"] = h5py.SoftLink(f"/{number}.1/instrument/eiger/data")
    return path


def write_tomo(path: Path, *, projections: int = 90, flats: int = 10, darks: int = 5) -> Path:
    """Write an NXtomo file with darks, flats and projections marked by image_key."""
    total = projections + flats + darks
    keys = np.array([2] * darks + [1] * flats + [0] * projections, dtype="u1")
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", "tomography of a rock")
        e["definition"] = "NXtomo"
        det = group(group(e, "instrument", "NXinstrument"), "detector", "NXdetector")
        field(det, "data", np.zeros((total, 4, 4), dtype="u2"))
        det["image_key"] = keys
        field(det, "count_time", 0.05, "s")
        smp = group(e, "sample", "NXsample")
        smp["name"] = "basalt"
        angles = np.concatenate([np.zeros(darks + flats), np.linspace(0, 180, projections)])
        field(smp, "rotation_angle", angles, "degree")
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = "data"
        data["data"] = h5py.SoftLink("/entry/instrument/detector/data")
    return path


def write_dls_style(path: Path) -> Path:
    """Write a NeXus file as GDA writes it: entry1, bytes NX_class, before_scan, old signal."""
    with h5py.File(path, "w") as f:
        e = group(f, "entry1", "NXentry", as_bytes=True)
        e["title"] = np.bytes_(b"scan energy 8.9 9.1 0.01")
        e["start_time"] = "2024-03-01T10:00:00"
        e["experiment_identifier"] = "cm12345-1"
        inst = group(e, "instrument", "NXinstrument", as_bytes=True)
        inst["name"] = np.array([b"i16"])
        mono = group(inst, "DCM", "NXmonochromator", as_bytes=True)
        field(mono, "energy", np.linspace(8.9, 9.1, 21), "keV")
        before = group(e, "before_scan", "NXcollection", as_bytes=True)
        field(group(before, "ring", "NXcollection"), "current", 300.2, "mA")
        field(group(before, "lakeshore", "NXcollection"), "Ta", 295.1, "K")
        data = group(e, "default", "NXdata", as_bytes=True)
        field(data, "energy", np.linspace(8.9, 9.1, 21), "keV")
        counts = field(data, "roi1_sum", np.arange(21.0))
        counts.attrs["signal"] = 1
        counts.attrs["axes"] = "energy"
        e.attrs["default"] = "default"
        smp = group(e, "sample", "NXsample", as_bytes=True)
        smp["name"] = h5py.Empty("S10")
    return path


def write_isis_style(path: Path) -> Path:
    """Write a raw_data_1 file as the ISIS neutron source does."""
    with h5py.File(path, "w") as f:
        e = entry(f, "raw_data_1", "Sample in can, 20K")
        e["definition"] = "TOFRAW"
        e["experiment_identifier"] = "RB1920001"
        del e["start_time"]
        e["start_time"] = "2019-03-21T10:23:11"
        field(e, "duration", 3600.0, "second")
        field(e, "proton_charge", np.float32(125.5), "uAh")
        field(e, "good_frames", np.int32(180000))
        inst = group(e, "instrument", "NXinstrument")
        inst["name"] = "LARMOR"
        field(group(inst, "moderator", "NXmoderator"), "distance", -25.3, "metre")
        add_user(e, "user_1", "Nia Neutron", "PI", "nia@example.org")
        smp = group(e, "sample", "NXsample")
        smp["name"] = "D2O"
        field(smp, "temperature", 20.0, "K")
        det = group(e, "detector_1", "NXdata")
        counts = field(det, "counts", np.ones((1, 8, 50), dtype="i4"))
        counts.attrs["signal"] = 1
        field(det, "time_of_flight", np.linspace(0, 1e5, 51), "microsecond")
    return path


def write_soleil_style(path: Path) -> Path:
    """Write a file without any NX_class attribute, the entry named after the acquisition."""
    with h5py.File(path, "w") as f:
        e = f.create_group("<ROOT>_exp_0001")
        e["title"] = "flyscan"
        e["start_time"] = "2024-02-02T12:00:00Z"
        scan_data = e.create_group("scan_data")
        field(scan_data, "data_01", np.arange(5.0), "counts")
        f.create_group("calibration").create_dataset("gain", data=1.0)
    return path


def write_with_external_frames(
    path: Path, n_frames_files: int = 3, *, frames: int = 4, missing: int = 0
) -> list[Path]:
    """Write a master whose detector frames sit in files beside it; the last `missing` are not."""
    targets = [path.with_name(f"{path.stem}_data_{i:06d}.h5") for i in range(1, n_frames_files + 1)]
    for target in targets[: n_frames_files - missing]:
        with h5py.File(target, "w") as f:
            field(f, "entry/data/data", np.ones((frames, 8, 8), dtype="u2"), "counts")
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", "frames outside")
        det = group(group(e, "instrument", "NXinstrument"), "eiger", "NXdetector")
        for i, target in enumerate(targets, start=1):
            det[f"data_{i:06d}"] = h5py.ExternalLink(target.name, "/entry/data/data")
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = "data_000001"
        data["data_000001"] = h5py.ExternalLink(targets[0].name, "/entry/data/data")
    return targets


def write_vds(path: Path, sources: int = 2, *, frames: int = 5, missing: int = 0) -> list[Path]:
    """Write a master with a virtual dataset stacking the frames of `sources` files."""
    targets = [path.with_name(f"{path.stem}_part{i}.h5") for i in range(sources)]
    layout = h5py.VirtualLayout(shape=(sources * frames, 8, 8), dtype="u2")
    for i, target in enumerate(targets):
        if i < sources - missing:
            with h5py.File(target, "w") as f:
                f["data"] = np.full((frames, 8, 8), i, dtype="u2")
        layout[i * frames : (i + 1) * frames] = h5py.VirtualSource(
            target.name, "data", (frames, 8, 8)
        )
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", "virtual stack")
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = "data"
        data.create_virtual_dataset("data", layout, fillvalue=0)
        data["data"].attrs["units"] = "counts"
    return targets


def write_compressed(
    path: Path,
    *,
    frames: int = 1000,
    frame_shape: tuple[int, int] = (512, 512),
    codec: str = "bitshuffle",
) -> Path:
    """Write a compressed detector stack (bitshuffle/LZ4, Blosc or gzip) and a long axis."""
    options: dict[str, Any] = {
        "bitshuffle": dict(hdf5plugin.Bitshuffle(cname="lz4")),
        "blosc": dict(hdf5plugin.Blosc(cname="lz4", clevel=5)),
        "gzip": {"compression": "gzip"},
    }[codec]
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", f"{codec} stack")
        det = group(group(e, "instrument", "NXinstrument"), "detector", "NXdetector")
        stack = det.create_dataset(
            "data", shape=(frames, *frame_shape), dtype="u2", chunks=(1, *frame_shape), **options
        )
        stack.attrs["units"] = "counts"
        frame = np.arange(frame_shape[0] * frame_shape[1], dtype="u2").reshape(frame_shape)
        for i in range(frames):
            stack[i] = frame
        angles = np.linspace(0.0, 360.0, 50_000)
        field(
            group(e, "sample", "NXsample"),
            "rotation_angle",
            angles,
            "deg",
            chunks=(1000,),
            **options,
        )
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = "data"
        data["data"] = h5py.SoftLink("/entry/instrument/detector/data")
    return path


_WRITER = """
import sys, h5py
path, swmr = sys.argv[1], sys.argv[2] == "1"
f = h5py.File(path, "w", libver="latest" if swmr else "earliest")
e = f.create_group("entry")
e.attrs["NX_class"] = "NXentry"
e["title"] = "still acquiring"
d = e.create_dataset("counts", (0,), maxshape=(None,), dtype="f8")
d.attrs["units"] = "counts"
if swmr:
    f.swmr_mode = True
d.resize((3,))
d[:] = [1.0, 2.0, 3.0]
f.flush()
print("ready", flush=True)
sys.stdin.readline()
f.close()
"""


@contextmanager
def write_swmr_open(path: Path, *, swmr: bool = True) -> Iterator[Path]:
    """Keep a file open for writing in another process (SWMR or plain) while the block runs."""
    command = [sys.executable, "-c", _WRITER, str(path), "1" if swmr else "0"]
    writer = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert writer.stdin is not None and writer.stdout is not None
    try:
        if writer.stdout.readline().strip() != "ready":
            raise RuntimeError(f"writer failed: {writer.communicate(timeout=30)[1]}")
        yield path
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)


def write_huge_attribute(path: Path, nbytes: int = 1 << 20) -> Path:
    """Write a file whose signal attribute and a field's units take `nbytes` each."""
    with h5py.File(path, "w", libver="latest") as f:
        e = entry(f, "entry", "huge attributes")
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = np.bytes_(b"x" * nbytes)
        field(data, "x", 1.0).attrs["units"] = np.bytes_(b"m" * nbytes)
        field(data, "y", 2.0, "mm")
    return path


def write_link_cycles(path: Path) -> Path:
    """Write soft and hard links that point back to a parent group, and a dangling one."""
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", "cycles")
        inner = group(group(e, "instrument", "NXinstrument"), "deep", "NXcollection")
        field(inner, "gap", 1.5, "mm")
        inner["up"] = h5py.SoftLink("/entry")
        inner["self"] = h5py.SoftLink(".")
        inner["back"] = e  # a hard link to an ancestor
        inner["dangling"] = h5py.SoftLink("/nowhere/at/all")
        e.attrs["default"] = "loop"
        e["loop"] = h5py.SoftLink("/entry/loop")
    return path


def write_many_objects(path: Path, count: int = 2000) -> Path:
    """Write an entry with `count` small fields with units."""
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", "many objects")
        many = group(e, "many", "NXcollection")
        for i in range(count):
            field(many, f"v{i:05d}", float(i), "V")
    return path


def write_external_outside(path: Path, target: Path) -> Path:
    """Write a master whose detector data is an external link to `target`, written too."""
    with h5py.File(target, "w") as f:
        field(f, "data", np.ones((3, 4, 4), dtype="u2"), "counts")
    with h5py.File(path, "w") as f:
        e = entry(f, "entry", "outside")
        data = group(e, "data", "NXdata")
        data.attrs["signal"] = "data"
        data["data"] = h5py.ExternalLink(str(target), "/data")
    return path


def write_no_entry(path: Path) -> Path:
    """Write a valid HDF5 file with no NeXus entry (a bare detector data file)."""
    with h5py.File(path, "w") as f:
        f["data"] = np.zeros((2, 4, 4))
        f.create_group("stuff")["x"] = 1
    return path


def write_bad(path: Path, kind: str) -> Path:
    """Write a file that is not readable HDF5: empty, text, hdf4, xml or truncated."""
    if kind == "truncated":
        write_mx_nexus(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    contents = {
        "empty": b"",
        "text": b"temperature,pressure\n1,2\n",
        "hdf4": b"\x0e\x03\x13\x01" + bytes(200),
        "xml": b'<?xml version="1.0"?>\n<NXroot><NXentry name="entry"/></NXroot>\n',
    }
    path.write_bytes(contents[kind])
    return path


def write_small_bliss(path: Path, scans: int = 2, *, sample: str = "sample1") -> Path:
    """Write a small Bliss dataset file fast: `scans` entries, a positioner, a counter."""
    with h5py.File(path, "w") as f:
        for number in range(1, scans + 1):
            e = entry(f, f"{number}.1", "loopscan 3 0.1")
            positioners = group(group(e, "instrument", "NXinstrument"), "positioners", None)
            field(positioners, "samz", 1.5 * number, "mm")
            group(e, "measurement", "NXcollection")["diode"] = np.arange(3.0) * number
            group(e, "sample", "NXsample")["name"] = sample
    return path
