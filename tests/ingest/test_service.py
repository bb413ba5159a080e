"""Harvest into the catalogue: real files of every shape in a facility's tree, and what
the catalogue holds afterwards, field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.policy import SYSTEM
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.events import DATASET_REGISTERED, DatasetRegistered, EventBus
from fairbeam.ingest.build import Hints
from fairbeam.ingest.models import HarvestProblem, HarvestState
from fairbeam.ingest.service import Harvester, IngestReport
from tests.ingest import files
from tests.ingest.tree import (
    acquisition,
    add_facility,
    datasets_at,
    files_on_disk,
    row_counts,
    stored,
    xxh3,
)

SCAN_START = datetime(2024, 5, 6, 6, 30, tzinfo=UTC)
SCAN_END = datetime(2024, 5, 6, 6, 45, 10, tzinfo=UTC)


@pytest.fixture
def data(settings: Settings, session: Session) -> Path:
    """The data root, with the facility's beamlines and proposals in the catalogue."""
    add_facility(session)
    root = settings.data_roots[0]
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def harvest(
    sessions: sessionmaker[Session],
    settings: Settings,
    *paths: Path,
    hints: Hints | None = None,
    events: EventBus | None = None,
    force: bool = False,
) -> IngestReport:
    return Harvester(sessions, settings, SYSTEM, events).ingest(list(paths), hints, force)


def statuses(report: IngestReport) -> dict[str, str]:
    return {o.location: o.status for o in report.outcomes}


def test_bliss_dataset_with_frames_beside_it(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    master = files.write_bliss_multiscan(
        acquisition(data, "lyso", "0001"), scans=2, points=11, sample="lysozyme", frames=True
    )
    folder = master.parent
    report = harvest(sessions, settings, data)
    assert statuses(report) == {str(folder): "created"}

    got = stored(session, folder)
    dataset = got.dataset
    # The proposal is spelt `mx2471` in the path and `MX-2471` in the catalogue.
    assert (got.investigation.code, got.investigation.placeholder) == ("MX-2471", False)
    assert got.instrument == "ID23"  # from `id23eh1` in the path
    assert (dataset.name, dataset.location, dataset.type.value) == ("lyso_0001", str(folder), "raw")
    assert dataset.technique == ""  # Bliss writes no application definition
    assert (dataset.start, dataset.end) == (SCAN_START, SCAN_END)
    assert got.sample is not None
    assert (got.sample.name, got.sample.chemical_formula) == ("lysozyme", None)
    assert got.sample.investigation_id == got.investigation.id
    params = got.parameters
    assert params["scan_count"] == (2, None)
    assert params["title"] == ("ascan samy 0 1 10 0.1", None)
    assert params["default_plot"] == ("/1.1/plotselect", None)
    assert params["positioners.sampz"] == (4.5, "mm")  # the first scan's value
    assert params["positioners.energy"] == (17.0, "keV")
    assert params["energy"] == (17.0, "keV")
    assert params["positioners.samy.first"] == (0.0, "mm")
    assert params["positioners.samy.last"] == (1.0, "mm")
    assert params["positioners.samy.length"] == (11, None)
    assert params["measurement.diode.max"] == (10.0, None)
    assert params["measurement.epoch.max"] == (1.7e9 + 10, "s")
    assert params["measurement.eiger.shape"] == ([11, 8, 8], None)
    assert dataset.parameter_count == len(params)
    # The master and the frame files its scans link to, by path relative to the folder.
    assert got.files == files_on_disk(folder)
    assert sorted(got.files) == [
        "lyso_0001.h5",
        "lyso_0001_eiger_0001.h5",
        "lyso_0001_eiger_0002.h5",
    ]
    assert dataset.file_count == 3
    assert dataset.volume_bytes == sum(p.stat().st_size for p in folder.iterdir())
    assert got.investigation.dataset_count == 1
    assert got.investigation.volume_bytes == dataset.volume_bytes


def test_nxmx_file_field_by_field(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    master = files.write_mx_nexus(acquisition(data, "lyso", "0002"), frames=20)
    with h5py.File(master, "a") as f:
        del f["entry/experiment_identifier"]
        f["entry/experiment_identifier"] = "mx2471"
    harvest(sessions, settings, master)

    got = stored(session, master.parent)
    assert got.investigation.code == "MX-2471"
    assert got.instrument == "ID23"  # the file says ID23-1
    assert got.dataset.technique == "macromolecular crystallography"  # from NXmx
    assert (got.dataset.start, got.dataset.end) == (SCAN_START, SCAN_END)
    assert got.sample is not None
    assert (got.sample.name, got.sample.chemical_formula) == ("lysozyme", "C613H959N193O185S10")
    params = got.parameters
    # Values and units exactly as the file writes them.
    assert params["instrument.monochromator.energy"] == (12.7, "keV")
    value, unit = params["instrument.monochromator.wavelength"]
    assert unit == "angstrom" and value == pytest.approx(0.9763, rel=1e-6)
    assert params["instrument.eiger.distance"] == (250.0, "mm")
    assert params["instrument.eiger.count_time"] == (0.01, "s")
    assert params["instrument.source.current"] == (199.5, "mA")
    assert params["instrument.beam.incident_beam_size"] == ([0.05, 0.02], "mm")
    assert params["instrument.beam.flux"] == (3.2e12, "1/s")
    assert params["instrument.eiger.x_pixel_size"] == (7.5e-5, "m")
    assert params["instrument.eiger.data.shape"] == ([20, 16, 16], None)
    assert params["instrument.eiger.type"] == ("Pixel", None)
    assert params["sample.temperature"] == (100, "K")
    assert params["sample.omega.first"] == (0.0, "deg")
    assert params["sample.omega.length"] == (20, None)
    assert params["detector_distance"] == (250.0, "mm")
    assert params["temperature"] == (100, "K")
    assert params["definition"] == ("NXmx", None)
    assert params["title"] == ("lysozyme 100K", None)
    assert params["program_name"] == ("GDA 9.3", None)
    assert params["default_plot"] == ("/entry/data", None)
    assert params["scan_count"] == (1, None)
    assert got.files == files_on_disk(master.parent)
    # People's e-mail addresses never reach the catalogue.
    assert "example.org" not in repr(params) + got.dataset.search_text


def test_file_names_its_proposal_before_the_path(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    # The NXmx writer names proposal mx1234, which the catalogue does not know.
    master = files.write_mx_nexus(acquisition(data, "lyso", "0003"), frames=2)
    harvest(sessions, settings, master)
    got = stored(session, master.parent)
    assert (got.investigation.code, got.investigation.placeholder) == ("mx1234", True)


def test_unknown_proposal_becomes_a_placeholder(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    first = files.write_tomo(acquisition(data, "rock", "0001", proposal="hc9999", beamline="id11"))
    second = files.write_tomo(acquisition(data, "rock", "0002", proposal="hc9999", beamline="id11"))
    report = harvest(sessions, settings, data)
    assert report.summary() == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0}

    got = stored(session, first.parent)
    investigation = got.investigation
    assert investigation.code == "hc9999"
    assert investigation.placeholder is True
    assert investigation.title == "Unknown proposal hc9999"
    assert investigation.instrument.name == "ID11"
    assert investigation.start == SCAN_START
    assert investigation.dataset_count == 2
    assert stored(session, second.parent).investigation.id == investigation.id
    (flag,) = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "investigation.placeholder")
    )
    assert (flag.object_id, flag.detail["code"]) == (str(investigation.id), "hc9999")
    assert got.dataset.technique == "tomography"
    assert got.sample is not None and got.sample.name == "basalt"
    assert got.parameters["number_of_projections"] == (90, None)
    assert got.parameters["sample.rotation_angle.max"] == (180.0, "degree")
    assert got.parameters["exposure_time"] == (0.05, "s")


def test_processed_data(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    raw = files.write_bliss_multiscan(acquisition(data, "lyso", "0001"), scans=1)
    processed = files.write_bliss_multiscan(
        acquisition(data, "lyso", "0001", kind="PROCESSED_DATA"), scans=1
    )
    autoproc = processed.parent / "autoproc"
    autoproc.mkdir()
    (autoproc / "XDS_ASCII.HKL").write_text("!FORMAT=XDS_ASCII\n")
    deeper = processed.parent.parent / "lyso_0002" / "integrate" / "integrate.h5"
    deeper.parent.mkdir(parents=True)
    files.write_bliss_multiscan(deeper, scans=1)
    report = harvest(sessions, settings, data)
    assert report.summary()["created"] == 3

    assert stored(session, raw.parent).dataset.type.value == "raw"
    got = stored(session, processed.parent)
    assert (got.dataset.type.value, got.dataset.name) == ("processed", "lyso_0001")
    assert got.investigation.code == "MX-2471"
    # Everything below a processed acquisition folder is its data.
    assert got.files == files_on_disk(processed.parent)
    assert "autoproc/XDS_ASCII.HKL" in got.files
    deep = stored(session, deeper.parent)
    assert (deep.dataset.type.value, deep.investigation.code) == ("processed", "MX-2471")
    assert deep.files == files_on_disk(deeper.parent)


def test_virtual_and_compressed_datasets(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    vds = acquisition(data, "stack", "0001")
    files.write_vds(vds, sources=2, frames=5)
    bitshuffle = files.write_compressed(
        acquisition(data, "stack", "0002"), frames=4, frame_shape=(64, 64), codec="bitshuffle"
    )
    blosc = files.write_compressed(
        acquisition(data, "stack", "0003"), frames=4, frame_shape=(64, 64), codec="blosc"
    )
    report = harvest(sessions, settings, data)
    assert report.summary()["created"] == 3 and not report.failures

    got = stored(session, vds.parent)
    assert sorted(got.files) == ["stack_0001.h5", "stack_0001_part0.h5", "stack_0001_part1.h5"]
    assert got.files == files_on_disk(vds.parent)
    assert got.parameters["data.data.shape"] == ([10, 8, 8], None)
    for path in (bitshuffle, blosc):
        got = stored(session, path.parent)
        assert got.files == {path.name: (path.stat().st_size, xxh3(path))}
        assert got.parameters["instrument.detector.data.shape"] == ([4, 64, 64], None)
        # The first and last angles are decoded through the compression filter.
        assert got.parameters["sample.rotation_angle.first"] == (0.0, "deg")
        assert got.parameters["sample.rotation_angle.last"] == (360.0, "deg")
        assert got.parameters["default_plot"] == ("/entry/data", None)


def test_links_missing_or_outside_the_data_roots(
    data: Path,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    missing = acquisition(data, "links", "0001")
    files.write_with_external_frames(missing, 3, missing=1)
    outside = tmp_path / "elsewhere" / "frames.h5"
    outside.parent.mkdir()
    escaping = files.write_external_outside(acquisition(data, "links", "0002"), outside)
    report = harvest(sessions, settings, data)
    assert report.summary()["created"] == 2 and not report.failures

    got = stored(session, missing.parent)
    assert sorted(got.files) == [
        "links_0001.h5",
        "links_0001_data_000001.h5",
        "links_0001_data_000002.h5",
    ]
    assert got.files == files_on_disk(missing.parent)
    escaped = stored(session, escaping.parent)
    # The link's target is neither read nor listed.
    assert escaped.files == {escaping.name: (escaping.stat().st_size, xxh3(escaping))}
    problems = {
        (p.path, p.severity, p.message, p.dataset_id)
        for p in session.scalars(select(HarvestProblem))
    }
    target = missing.parent / "links_0001_data_000003.h5"
    assert problems == {
        (
            str(missing.parent),
            "warning",
            f"external link entry/instrument/eiger/data_000003 → {target} is missing",
            got.dataset.id,
        ),
        (
            str(escaping.parent),
            "warning",
            f"external link entry/data/data → {outside} is outside the data roots",
            escaped.dataset.id,
        ),
    }


def test_file_open_for_writing_is_harvested_then_updated(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    path = acquisition(data, "live", "0001")
    with files.write_swmr_open(path):
        report = harvest(sessions, settings, data)
    assert statuses(report) == {str(path.parent): "created"}
    got = stored(session, path.parent)
    assert got.parameters["counts"] == ([1.0, 2.0, 3.0], "counts")
    assert got.parameters["title"] == ("still acquiring", None)
    # The writer goes on: one more point, then it closes the file.
    with h5py.File(path, "a") as f:
        counts = f["entry/counts"]
        counts.resize((4,))
        counts[3] = 4.0
        f["entry/end_time"] = "2024-05-06T09:00:00Z"
    report = harvest(sessions, settings, data)
    assert statuses(report) == {str(path.parent): "updated"}
    again = stored(session, path.parent)
    assert again.dataset.id == got.dataset.id
    assert again.parameters["counts"] == ([1.0, 2.0, 3.0, 4.0], "counts")
    assert again.files == files_on_disk(path.parent)
    assert (
        session.scalar(select(Investigation.dataset_count).where(Investigation.code == "MX-2471"))
        == 1
    )


def test_folder_of_several_masters(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    # As Diamond writes them: one folder per visit, a .nxs per scan, frames beside it.
    visit = data / "i16" / "data" / "2024" / "cm12345-1"
    visit.mkdir(parents=True)
    first = files.write_dls_style(visit / "i16-1001.nxs")
    second = files.write_dls_style(visit / "i16-1002.nxs")
    for n in (1, 2):
        with h5py.File(visit / f"i16-1001_pilatus_{n:06d}.h5", "w") as f:
            f["entry/data/data"] = np.ones((3, 4, 4), dtype="u2")
    broken = files.write_bad(visit / "i16-1003.nxs", "truncated")
    report = harvest(sessions, settings, visit)
    assert statuses(report) == {
        str(first): "created",
        str(second): "created",
        str(broken): "failed",
    }

    got = stored(session, first)
    assert got.investigation.code == "cm12345-1" and got.investigation.placeholder
    assert got.instrument == "I16"  # the file says i16
    assert (got.dataset.name, got.dataset.type.value) == ("i16-1001", "raw")
    assert got.dataset.start == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert got.sample is None  # the file's sample name is empty
    assert got.files == {
        name: (size, checksum)
        for name, (size, checksum) in files_on_disk(visit).items()
        if name.startswith("i16-1001")
    }
    assert sorted(got.files) == [
        "i16-1001.nxs",
        "i16-1001_pilatus_000001.h5",
        "i16-1001_pilatus_000002.h5",
    ]
    params = got.parameters
    assert params["before_scan.ring.current"] == (300.2, "mA")
    assert params["before_scan.lakeshore.Ta"] == (295.1, "K")
    assert params["instrument.DCM.energy.first"] == (8.9, "keV")
    assert params["instrument.DCM.energy.last"] == (9.1, "keV")
    assert params["default_plot"] == ("/entry1/default", None)
    assert stored(session, second).files == {second.name: (second.stat().st_size, xxh3(second))}
    assert datasets_at(session, visit) == [str(first), str(second)]


def test_neutron_and_unclassed_files_with_hints(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    isis = data / "isis" / "cycle_19_1"
    isis.mkdir(parents=True)
    neutron = files.write_isis_style(isis / "LARMOR00012345.nxs")
    soleil = data / "soleil" / "flyscans"
    soleil.mkdir(parents=True)
    fly = files.write_soleil_style(soleil / "flyscan_0001.nxs")

    report = harvest(sessions, settings, isis, soleil)
    # Nothing in the Soleil-style file or its path names a beamline or a proposal.
    assert statuses(report) == {str(neutron): "created", str(fly): "failed"}
    assert report.failures[0].message == (
        f"{fly}: no instrument in the file or the path; give --instrument"
    )
    assert datasets_at(session, soleil) == []

    got = stored(session, neutron)
    assert (got.investigation.code, got.instrument) == ("RB1920001", "LARMOR")
    assert got.dataset.technique == ""  # TOFRAW has no PaNET technique
    assert got.dataset.start == datetime(2019, 3, 21, 10, 23, 11, tzinfo=UTC)
    assert got.sample is not None and got.sample.name == "D2O"
    assert got.parameters["duration"] == (3600.0, "second")
    assert got.parameters["proton_charge"] == (125.5, "uAh")
    assert got.parameters["temperature"] == (20.0, "K")
    assert got.parameters["instrument.moderator.distance"] == (-25.3, "metre")
    assert got.parameters["definition"] == ("TOFRAW", None)
    assert "nia@example.org" not in repr(got.parameters) + got.dataset.search_text

    report = harvest(
        sessions, settings, soleil, hints=Hints(investigation="MX-2471", instrument="ID23")
    )
    assert statuses(report) == {str(fly): "created"}
    got = stored(session, fly)
    assert (got.investigation.code, got.instrument, got.dataset.name) == (
        "MX-2471",
        "ID23",
        "flyscan_0001",
    )
    assert got.parameters["scan_data.data_01.max"] == (4.0, "counts")


BAD = {
    "text": "is not an HDF5 file (no HDF5 signature)",
    "empty": "the file is empty",
    "hdf4": "is an HDF4 file, not HDF5 (convert it with h4toh5)",
    "xml": "is XML NeXus, not HDF5 (convert it with nxconvert)",
    "truncated": "is truncated (truncated file: eof = ",
}


HUGE = (
    "attribute /entry/data/x@units is 1048576 bytes, over 65536: skipped",
    "attribute /entry/data@signal is 1048576 bytes, over 65536: skipped",
)
LONG_UNIT = "parameter 'gap': name or unit longer than the catalogue holds"


def test_bad_files_fail_one_line_each_and_the_batch_goes_on(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    good = files.write_bliss_multiscan(acquisition(data, "good", "0001"), scans=1)
    bad = {kind: files.write_bad(acquisition(data, "bad", kind), kind) for kind in BAD}
    no_entry = files.write_no_entry(acquisition(data, "bad", "noentry"))
    unknown_beamline = files.write_bliss_multiscan(
        acquisition(data, "odd", "0001", beamline="bm99"), scans=1
    )
    huge = files.write_huge_attribute(acquisition(data, "hostile", "0001"))
    cycles = files.write_link_cycles(acquisition(data, "hostile", "0002"))
    odd_unit = acquisition(data, "hostile", "0003")
    with h5py.File(odd_unit, "w") as f:
        scan = files.entry(f, "entry", "a unit too long for the catalogue")
        files.field(scan, "gap", 1.5, "millimetre " * 6)
        files.field(scan, "y", 2.0, "mm")
    before = row_counts(session)

    report = harvest(sessions, settings, data)
    failed = {o.location: o.message for o in report.failures}
    assert set(failed) == {str(p) for p in bad.values()} | {
        str(no_entry),
        str(unknown_beamline.parent),
    }
    for kind, path in bad.items():
        message = failed[str(path)]
        assert message is not None and message.startswith(f"{path}: {BAD[kind]}")
        assert "\n" not in message
    assert failed[str(no_entry)] == f"{no_entry}: no NeXus entry found (no NXentry group)"
    assert failed[str(unknown_beamline.parent)] == (
        f"{unknown_beamline}: instrument 'bm99' is not known (known: I16, ID11, ID23, LARMOR)"
    )
    # Nothing of the failed ones is registered; the good and the hostile ones are.
    assert datasets_at(session, data / "visitor") == [
        str(good.parent),
        str(huge.parent),
        str(cycles.parent),
        str(odd_unit.parent),
    ]
    after = row_counts(session)
    assert after["dataset"] - before["dataset"] == 4
    assert after["sample"] - before["sample"] == 2  # good and hostile
    assert after["investigation"] == before["investigation"]
    # Hostile files: what could not be read safely is skipped and said.
    got = stored(session, huge.parent)
    assert got.parameters["data.y"] == (2.0, "mm")
    assert got.parameters["data.x"] == (1.0, None)  # its 1 MiB units attribute is not read
    assert stored(session, cycles.parent).parameters["instrument.deep.gap"] == (1.5, "mm")
    long_unit = stored(session, odd_unit.parent).parameters
    assert "gap" not in long_unit and long_unit["y"] == (2.0, "mm")
    problems = {(p.path, p.severity, p.message) for p in session.scalars(select(HarvestProblem))}
    assert {(str(huge.parent), "warning", m) for m in HUGE} <= problems
    assert (str(odd_unit.parent), "warning", LONG_UNIT) in problems
    for path in bad.values():
        assert (str(path), "error", failed[str(path)]) in problems


def test_failing_registration_leaves_no_rows(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    # The second dataset names a proposal of another beamline: it fails in the
    # catalogue, after being read, in the same batch as the first.
    good = files.write_bliss_multiscan(acquisition(data, "good", "0001"), scans=1)
    other = files.write_tomo(acquisition(data, "rock", "0001", proposal="zz0001", beamline="id11"))
    with h5py.File(other, "a") as f:
        f["entry/experiment_identifier"] = "x" * 80  # longer than any proposal code
    before = row_counts(session)
    report = harvest(sessions, settings, data)
    assert statuses(report) == {str(good.parent): "created", str(other.parent): "failed"}
    assert report.failures[0].message == (
        f"{other}: investigation '{'x' * 60}' is not acceptable:"
        " String should have at most 50 characters"
    )
    after = row_counts(session)
    assert datasets_at(session, data) == [str(good.parent)]
    assert after["investigation"] == before["investigation"]  # no placeholder either
    assert after["sample"] - before["sample"] == 1
    assert session.scalar(select(Dataset.id).where(Dataset.technique == "tomography")) is None


def test_harvest_again(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    first = files.write_bliss_multiscan(acquisition(data, "s", "0001"), scans=2, frames=True)
    files.write_bliss_multiscan(acquisition(data, "s", "0002"), scans=2)
    files.write_bad(acquisition(data, "bad", "0001"), "text")
    assert harvest(sessions, settings, data).summary() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 1,
    }
    counts = row_counts(session)
    states = list(session.execute(select(HarvestState.location, HarvestState.harvested)))
    # Unchanged: not read again, nothing written (a bad file is retried once it changes).
    assert harvest(sessions, settings, data).summary() == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "failed": 0,
    }
    assert row_counts(session) == counts
    assert list(session.execute(select(HarvestState.location, HarvestState.harvested))) == states
    # Forced: read again and registered again as the same datasets.
    report = harvest(sessions, settings, data, force=True)
    assert report.summary() == {"created": 0, "updated": 2, "unchanged": 0, "failed": 1}
    assert row_counts(session)["dataset"] == counts["dataset"]
    assert row_counts(session)["datafile"] == counts["datafile"]
    # One frame file more: the dataset is updated, its new file listed.
    extra = first.parent / "s_0001_eiger_0003.h5"
    with h5py.File(extra, "w") as f:
        f["entry/data/data"] = np.ones((2, 8, 8), dtype="u2")
    report = harvest(sessions, settings, data)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 2, "failed": 0}
    got = stored(session, first.parent)
    assert got.files == files_on_disk(first.parent)
    assert got.dataset.file_count == 4
    investigation = got.investigation
    assert investigation.dataset_count == 2
    assert investigation.file_count == 4 + 1


def test_events_one_per_registered_dataset(
    data: Path, session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    bus = EventBus()
    seen: list[DatasetRegistered] = []
    bus.subscribe(DATASET_REGISTERED, seen.append)
    paths = [
        files.write_bliss_multiscan(acquisition(data, "s", f"{n:04d}"), scans=1)
        for n in range(1, 4)
    ]
    files.write_bad(acquisition(data, "bad", "0001"), "empty")
    harvest(sessions, settings, data, events=bus)
    ids = {p.parent: stored(session, p.parent).dataset.id for p in paths}
    mx2471 = stored(session, paths[0].parent).investigation
    assert sorted(seen, key=lambda e: e.dataset_id) == [
        DatasetRegistered(
            dataset_id=ids[p.parent],
            investigation_id=mx2471.id,
            instrument_id=mx2471.instrument_id,
            location=str(p.parent),
            created=True,
            source="harvest",
            actor="fairbeam",
        )
        for p in paths
    ]
    seen.clear()
    harvest(sessions, settings, data, events=bus)
    assert seen == []  # nothing changed, nothing said
    harvest(sessions, settings, paths[0], events=bus, force=True)
    assert [(e.dataset_id, e.created) for e in seen] == [(ids[paths[0].parent], False)]
