"""The NeXus reader: files as facilities write them, checked field by field, and bad files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import pytest

from fairbeam.errors import HarvestError
from fairbeam.ingest.nexus import MasterFile, Person, Plot, read_master
from fairbeam.ingest.techniques import technique_for
from tests.ingest import files


def values(master: MasterFile, scan: int = 0) -> dict[str, Any]:
    """The scan's parameters as {name: (value, unit)}."""
    return {k: (p.value, p.unit) for k, p in master.scans[scan].parameters.items()}


def test_mx_file_field_by_field(tmp_path: Path) -> None:
    master = read_master(files.write_mx_nexus(tmp_path / "mx.h5"))
    assert master.problems == [] and master.linked_files == [] and not master.writing
    assert master.size == (tmp_path / "mx.h5").stat().st_size
    (scan,) = master.scans
    assert scan.name == "entry"
    assert scan.title == "lysozyme 100K"
    assert scan.start == datetime(2024, 5, 6, 6, 30, tzinfo=UTC)
    assert scan.end == datetime(2024, 5, 6, 6, 45, 10, tzinfo=UTC)
    assert scan.start.tzinfo is UTC
    assert scan.definition == "NXmx"
    assert scan.technique == "macromolecular crystallography"
    assert scan.experiment_identifier == "mx1234"
    assert scan.instrument == "ID23-1"
    assert scan.sample == "lysozyme"
    assert scan.chemical_formula == "C613H959N193O185S10"
    assert scan.users == [
        Person(
            "Ada Crystal", "principal_investigator", "Institute of Crystals", "0000-0002-1825-0097"
        ),
        Person("Bo Beam", "local_contact", "Institute of Crystals", "0000-0002-1825-0097"),
    ]
    assert scan.plot == Plot("/entry/data", "data", [".", ".", "."], [20, 16, 16], 3)
    got = values(master)
    assert got["instrument.monochromator.energy"] == (12.7, "keV")
    assert got["instrument.monochromator.wavelength"][1] == "angstrom"
    assert got["instrument.eiger.distance"] == (250.0, "mm")
    assert got["instrument.eiger.count_time"] == (0.01, "s")
    assert got["instrument.eiger.type"] == ("Pixel", None)
    assert got["instrument.source.name"] == ("ESRF", None)
    assert got["instrument.source.probe"] == ("x-ray", None)
    assert got["instrument.beam.incident_beam_size"] == ([0.05, 0.02], "mm")
    assert got["sample.temperature"] == (100, "K")
    assert got["sample.chemical_formula"] == ("C613H959N193O185S10", None)
    assert got["sample.omega.length"] == (20, None)
    assert got["sample.omega.first"] == (0.0, "deg")
    assert got["sample.omega.max"][1] == "deg"
    # A detector stack is described by its shape only.
    assert got["instrument.eiger.data.shape"] == ([20, 16, 16], None)
    assert "instrument.eiger.data.min" not in got
    # Canonical names beside the path names.
    assert got["energy"] == (12.7, "keV")
    assert got["wavelength"][1] == "angstrom"
    assert got["detector_distance"] == (250.0, "mm")
    assert got["exposure_time"] == (0.01, "s")
    assert got["temperature"] == (100, "K")
    assert got["flux"] == (3.2e12, "1/s")
    assert got["transmission"] == (0.25, None)
    assert got["pixel_size"] == (7.5e-5, "m")
    assert got["beam_size_x"] == (0.05, "mm") and got["beam_size_y"] == (0.02, "mm")
    assert got["program_name"] == ("GDA 9.3", None)
    for value in got.values():
        assert isinstance(value[0], str | int | float | bool | list)
    assert "example.org" not in repr(master)


def test_bliss_multiscan(tmp_path: Path) -> None:
    path = files.write_bliss_multiscan(tmp_path / "s1_0001.h5", scans=12, points=11)
    master = read_master(path)
    assert [s.name for s in master.scans][:3] == ["1.1", "2.1", "3.1"]
    assert master.scans[-1].name == "12.1"
    scan = master.scans[1]
    assert scan.title == "ascan samy 0 1 10 0.1"
    assert scan.sample == "sample1"
    assert scan.plot == Plot("/2.1/plotselect", "diode", ["samy"], [11], 1)
    got = values(master, 1)
    assert got["positioners.sampz"] == (5.5, "mm")
    assert got["positioners.samy.first"] == (0.0, "mm")
    assert got["positioners.samy.last"] == (1.0, "mm")
    assert got["positioners.samy.length"] == (11, None)
    assert got["measurement.diode.min"] == (0.0, None)
    assert got["measurement.diode.max"] == (20.0, None)
    assert got["measurement.diode.length"] == (11, None)
    assert got["measurement.epoch.max"] == (1.7e9 + 10, "s")
    assert got["energy"] == (17.0, "keV")
    assert master.problems == []


def test_bliss_frames_in_external_files(tmp_path: Path) -> None:
    path = files.write_bliss_multiscan(tmp_path / "s.h5", scans=2, points=5, frames=True)
    master = read_master(path, data_roots=[tmp_path])
    assert [f.path for f in master.linked_files] == [
        tmp_path / "s_eiger_0001.h5",
        tmp_path / "s_eiger_0002.h5",
    ]
    assert all(f.exists and not f.outside_roots for f in master.linked_files)
    assert {f.kind for f in master.linked_files} == {"external_link"}
    assert values(master)["measurement.eiger.shape"] == ([5, 8, 8], None)
    assert master.problems == []


def test_tomo(tmp_path: Path) -> None:
    master = read_master(files.write_tomo(tmp_path / "t.h5", projections=90, flats=10, darks=5))
    scan = master.scans[0]
    assert (scan.definition, scan.technique, scan.sample) == ("NXtomo", "tomography", "basalt")
    got = values(master)
    assert got["number_of_projections"] == (90, None)
    assert got["sample.rotation_angle.length"] == (105, None)
    assert got["sample.rotation_angle.max"] == (180.0, "degree")
    assert got["exposure_time"] == (0.05, "s")
    assert scan.plot is not None and scan.plot.shape == [105, 4, 4]


def test_dls_style(tmp_path: Path) -> None:
    master = read_master(files.write_dls_style(tmp_path / "i16-1234.nxs"))
    scan = master.scans[0]
    assert scan.name == "entry1"
    assert scan.title == "scan energy 8.9 9.1 0.01"
    assert scan.start == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)  # no offset: taken as UTC
    assert scan.experiment_identifier == "cm12345-1"
    assert scan.instrument == "i16"
    assert scan.sample is None
    assert scan.plot == Plot("/entry1/default", "roi1_sum", ["energy"], [21], 1)
    got = values(master)
    assert got["before_scan.ring.current"] == (300.2, "mA")
    assert got["before_scan.lakeshore.Ta"] == (295.1, "K")
    assert got["instrument.DCM.energy.first"] == (8.9, "keV")
    assert got["instrument.DCM.energy.last"] == (9.1, "keV")
    assert "energy" not in got  # a scanned energy has no single value


def test_isis_style(tmp_path: Path) -> None:
    master = read_master(files.write_isis_style(tmp_path / "LARMOR00012345.nxs"))
    scan = master.scans[0]
    assert (scan.name, scan.instrument, scan.sample) == ("raw_data_1", "LARMOR", "D2O")
    assert scan.experiment_identifier == "RB1920001"
    assert scan.definition == "TOFRAW" and scan.technique is None
    assert scan.users == [
        Person("Nia Neutron", "PI", "Institute of Crystals", "0000-0002-1825-0097")
    ]
    assert scan.plot == Plot("/raw_data_1/detector_1", "counts", [], [1, 8, 50], 3)
    got = values(master)
    assert got["duration"] == (3600.0, "second")
    assert got["proton_charge"] == (125.5, "uAh")
    assert got["instrument.moderator.distance"] == (-25.3, "metre")
    assert got["temperature"] == (20.0, "K")
    assert "nia@example.org" not in repr(master)


def test_soleil_style_without_nx_class(tmp_path: Path) -> None:
    master = read_master(files.write_soleil_style(tmp_path / "flyscan_0001.nxs"))
    assert [s.name for s in master.scans] == ["<ROOT>_exp_0001"]
    assert master.scans[0].start == datetime(2024, 2, 2, 12, 0, tzinfo=UTC)
    assert values(master)["scan_data.data_01.max"] == (4.0, "counts")


def test_external_frames_missing_and_outside(tmp_path: Path) -> None:
    roots = tmp_path / "data"
    roots.mkdir()
    path = roots / "master.h5"
    files.write_with_external_frames(path, n_frames_files=3, missing=1)
    master = read_master(path, data_roots=[roots])
    assert [(f.path.name, f.exists) for f in master.linked_files] == [
        ("master_data_000001.h5", True),
        ("master_data_000002.h5", True),
        ("master_data_000003.h5", False),
    ]
    assert master.problems == [
        f"external link entry/instrument/eiger/data_000003 → {roots}/master_data_000003.h5"
        " is missing"
    ]
    plot = master.scans[0].plot
    assert plot is not None and plot.shape == [4, 8, 8]
    outside = tmp_path / "elsewhere.h5"
    master = read_master(files.write_external_outside(roots / "o.h5", outside), data_roots=[roots])
    (linked,) = master.linked_files
    assert (linked.path, linked.exists, linked.outside_roots) == (outside, True, True)
    assert master.problems == [
        f"external link entry/data/data → {outside} is outside the data roots"
    ]
    plot = master.scans[0].plot
    assert plot == Plot("/entry/data", "data", [], None, None)  # not followed


def test_virtual_dataset(tmp_path: Path) -> None:
    files.write_vds(tmp_path / "v.h5", sources=3, missing=1)
    master = read_master(tmp_path / "v.h5")
    assert [(f.path.name, f.kind, f.exists) for f in master.linked_files] == [
        ("v_part0.h5", "virtual_dataset", True),
        ("v_part1.h5", "virtual_dataset", True),
        ("v_part2.h5", "virtual_dataset", False),
    ]
    assert master.problems == [
        f"virtual dataset entry/data/data → {tmp_path}/v_part2.h5 is missing"
    ]
    assert values(master)["data.data.shape"] == ([15, 8, 8], None)


@pytest.mark.parametrize("codec", ["bitshuffle", "blosc", "gzip"])
def test_compressed_stack_is_never_read(
    tmp_path: Path, codec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = 1000 if codec == "bitshuffle" else 20
    path = files.write_compressed(tmp_path / "c.h5", frames=frames, codec=codec)
    reads: list[tuple[str, Any]] = []
    original = h5py.Dataset.__getitem__

    def spy(self: h5py.Dataset, args: Any, **kw: Any) -> Any:
        reads.append((self.name, args))
        return original(self, args, **kw)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    master = read_master(path)
    got = values(master)
    assert got["instrument.detector.data.shape"] == ([frames, 512, 512], None)
    assert got["instrument.detector.data.length"] == (frames, None)
    assert master.scans[0].plot == Plot("/entry/data", "data", [], [frames, 512, 512], 3)
    # The long compressed axis: first and last by one element each, no min or max.
    assert got["sample.rotation_angle.first"] == (0.0, "deg")
    assert got["sample.rotation_angle.last"] == (360.0, "deg")
    assert got["sample.rotation_angle.length"] == (50_000, None)
    assert "sample.rotation_angle.min" not in got
    assert not [r for r in reads if r[0] == "/entry/instrument/detector/data"]
    assert sorted(r[1] for r in reads if r[0] == "/entry/sample/rotation_angle") == [0, 49_999]


@pytest.mark.parametrize("swmr", [True, False])
def test_file_open_for_writing(tmp_path: Path, swmr: bool) -> None:
    with files.write_swmr_open(tmp_path / "live.h5", swmr=swmr) as path:
        master = read_master(path)
    assert master.writing
    assert master.scans[0].title == "still acquiring"
    assert values(master)["counts"] == ([1.0, 2.0, 3.0], "counts")
    if not swmr:
        assert master.problems == [
            f"{path}: is being written without SWMR; its metadata may be incomplete"
        ]
    assert not read_master(path).writing  # closed since


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "the file is empty"),
        ("text", "is not an HDF5 file (no HDF5 signature)"),
        ("hdf4", "is an HDF4 file, not HDF5 (convert it with h4toh5)"),
        ("xml", "is XML NeXus, not HDF5 (convert it with nxconvert)"),
        ("truncated", "is truncated (truncated file: eof = "),
    ],
)
def test_bad_files(tmp_path: Path, kind: str, message: str) -> None:
    path = files.write_bad(tmp_path / f"{kind}.h5", kind)
    with pytest.raises(HarvestError) as caught:
        read_master(path)
    assert caught.value.detail.startswith(f"{path}: {message}")
    assert "\n" not in caught.value.detail


def test_missing_folder_no_entry(tmp_path: Path) -> None:
    with pytest.raises(HarvestError, match="the file does not exist"):
        read_master(tmp_path / "gone.h5")
    with pytest.raises(HarvestError, match="is a folder, not a file"):
        read_master(tmp_path)
    with pytest.raises(HarvestError, match="no NeXus entry found"):
        read_master(files.write_no_entry(tmp_path / "frames.h5"))


def test_no_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = files.write_mx_nexus(tmp_path / "secret.h5")

    def refuse(self: Path, *args: Any, **kw: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)  # the tests may run as root, who reads anything
    with pytest.raises(HarvestError, match="secret.h5: no read permission"):
        read_master(path)


def test_file_vanishing_mid_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = files.write_mx_nexus(tmp_path / "gone.h5")

    def vanish(*args: Any, **kw: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr("fairbeam.ingest.nexus.read_scan", vanish)
    with pytest.raises(HarvestError, match="gone.h5: the file vanished while it was read"):
        read_master(path)
    monkeypatch.setattr(h5py, "File", vanish)
    with pytest.raises(HarvestError, match="the file vanished before it could be read"):
        read_master(path)


def test_huge_attributes_are_skipped(tmp_path: Path) -> None:
    master = read_master(files.write_huge_attribute(tmp_path / "huge.h5"))
    assert master.problems == [
        "attribute /entry/data/x@units is 1048576 bytes, over 65536: skipped",
        "attribute /entry/data@signal is 1048576 bytes, over 65536: skipped",
    ]
    assert values(master)["data.y"] == (2.0, "mm")
    assert master.scans[0].plot == Plot("/entry/data", None, [], None, None)


def test_link_cycles_end(tmp_path: Path) -> None:
    master = read_master(files.write_link_cycles(tmp_path / "cycles.h5"))
    assert values(master) == {"instrument.deep.gap": (1.5, "mm")}
    assert master.scans[0].plot is None
    assert master.problems == []


def test_object_budget(tmp_path: Path) -> None:
    path = files.write_many_objects(tmp_path / "many.h5", count=500)
    master = read_master(path, max_objects=100)
    assert master.problems == ["stopped after 100 objects: the rest of the file was not read"]
    assert len(master.scans[0].parameters) < 100
    assert len(read_master(path).scans[0].parameters) == 500


def test_techniques() -> None:
    assert technique_for("NXcanSAS") == "small angle scattering"
    assert technique_for("NXsas") == "small angle scattering"
    assert technique_for("NXxas") == "X-ray absorption spectroscopy"
    assert technique_for("NXfluo") == "X-ray fluorescence"
    assert technique_for("NXarpes") == "angle-resolved photoemission spectroscopy"
    assert technique_for("NXmonopd") == "powder diffraction"
    assert technique_for("NXstxm") == "scanning transmission X-ray microscopy"
    assert technique_for("NXrefscan") == "reflectometry"
    assert technique_for("NXspe") == "inelastic neutron scattering"
    assert technique_for("NXunknown") is None and technique_for(None) is None
