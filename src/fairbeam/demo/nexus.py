"""NeXus/HDF5 files for the demo datasets, as acquisition and processing write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import xxhash

from fairbeam.demo.pictures import draw
from fairbeam.demo.plan import DatasetPlan, InvestigationPlan


def _group(parent: Any, name: str, nx_class: str, **attrs: Any) -> Any:
    group = parent.create_group(name)
    group.attrs["NX_class"] = nx_class
    for key, value in attrs.items():
        group.attrs[key] = value
    return group


def _field(group: Any, name: str, value: Any, units: str | None = None) -> None:
    dataset = group.create_dataset(name, data=value)
    if units:
        dataset.attrs["units"] = units


def _quantity(group: Any, name: str, parameter: Any) -> None:
    """Write a catalogue parameter ({"value", "unit"} or plain) as a NeXus field."""
    if parameter is None:
        return
    if isinstance(parameter, dict):
        _field(group, name, parameter["value"], parameter.get("unit"))
    else:
        _field(group, name, parameter)


def master_name(dataset: DatasetPlan) -> str:
    """The file name of the dataset's NeXus master file."""
    for path, _ in dataset.acquisition.files:
        if path.endswith((".h5", ".hdf5")) and "/" not in path and "_data_" not in path:
            return path
    return f"{dataset.name}.h5"


def write_master(
    path: Path,
    dataset: DatasetPlan,
    investigation: InvestigationPlan,
    facility: str,
    users: list[tuple[str, str]],
    seed: int,
) -> tuple[int, str]:
    """Write the dataset's NeXus file; answer its size and ``xxh3:`` checksum."""
    acquisition = dataset.acquisition
    params = acquisition.parameters
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = draw(acquisition.picture, np.random.default_rng(seed), acquisition.extra)
    with h5py.File(path, "w") as root:
        root.attrs["NX_class"] = "NXroot"
        root.attrs["default"] = "entry"
        root.attrs["file_name"] = path.name
        root.attrs["file_time"] = dataset.end.isoformat()
        root.attrs["creator"] = "fairbeam demo"
        entry = _group(root, "entry", "NXentry", default="data")
        _field(entry, "title", dataset.name)
        _field(entry, "experiment_identifier", investigation.code)
        _field(entry, "start_time", dataset.start.isoformat())
        _field(entry, "end_time", dataset.end.isoformat())
        _field(entry, "definition", acquisition.definition)
        if acquisition.pipeline:
            _field(entry, "program_name", acquisition.pipeline)
        instrument = _group(entry, "instrument", "NXinstrument")
        _field(instrument, "name", investigation.beamline.full_name)
        instrument["name"].attrs["short_name"] = investigation.beamline.name
        source = _group(instrument, "source", "NXsource")
        _field(source, "name", facility)
        _field(source, "type", "Synchrotron X-ray Source")
        _field(source, "probe", "x-ray")
        mono = _group(instrument, "monochromator", "NXmonochromator")
        _quantity(mono, "energy", params.get("energy") or params.get("energy_start"))
        _quantity(mono, "wavelength", params.get("wavelength"))
        detector = _group(instrument, "detector", "NXdetector")
        _field(detector, "description", str(params.get("detector", acquisition.pipeline)))
        _quantity(detector, "distance", params.get("detector_distance"))
        _quantity(detector, "count_time", params.get("exposure_time") or params.get("dwell_time"))
        _quantity(detector, "x_pixel_size", params.get("pixel_size"))
        sample = _group(entry, "sample", "NXsample")
        _field(sample, "name", dataset.sample.name)
        _field(sample, "chemical_formula", dataset.sample.formula)
        _field(sample, "description", dataset.sample.description)
        _quantity(sample, "temperature", params.get("sample_temperature"))
        for index, (full_name, role) in enumerate(users):
            user = _group(entry, f"user_{index + 1:02d}", "NXuser")
            _field(user, "name", full_name)
            _field(user, "role", role)
        data = _group(
            entry,
            "data",
            "NXdata",
            signal="data",
            # The axes name the leading dimensions; the image's own stay unnamed.
            axes=[name for name, _, _ in picture.axes]
            + ["."] * (picture.signal.ndim - len(picture.axes)),
        )
        for index, (name, _, _) in enumerate(picture.axes):
            data.attrs[f"{name}_indices"] = index
        signal = data.create_dataset(
            "data", data=picture.signal, compression="gzip", compression_opts=4, shuffle=True
        )
        signal.attrs["units"] = picture.units
        signal.attrs["long_name"] = picture.long_name
        if picture.interpretation:
            signal.attrs["interpretation"] = picture.interpretation
        for name, values, unit in picture.axes:
            _field(data, name, values, unit)
    content = path.read_bytes()
    return len(content), f"xxh3:{xxhash.xxh3_128_hexdigest(content)}"
