"""The facility's directory layout: what a path tells about its data."""

from __future__ import annotations

import pytest

from fairbeam.config import Settings
from fairbeam.errors import InvalidInput
from fairbeam.ingest.layout import Layout, PathInfo

VISIT = "/data/visitor/mx2471/id23eh1/20240506"


@pytest.fixture
def esrf() -> Layout:
    return Layout(Settings().layout)


def test_raw_master_file(esrf: Layout) -> None:
    found = esrf.match(f"{VISIT}/RAW_DATA/lyso/lyso_0001/lyso_0001.h5")
    assert found == PathInfo("mx2471", "id23eh1", "20240506", "raw", "lyso", "0001")


def test_raw_acquisition_folder(esrf: Layout) -> None:
    found = esrf.match(f"{VISIT}/RAW_DATA/lyso/lyso_0001")
    assert found == PathInfo("mx2471", "id23eh1", "20240506", "raw", "lyso", "0001")


def test_sample_names_with_underscores(esrf: Layout) -> None:
    found = esrf.match(f"{VISIT}/RAW_DATA/cell_A_2/cell_A_2_0013/cell_A_2_0013.h5")
    assert (found.sample, found.dataset) == ("cell_A_2", "0013")


def test_processed_data(esrf: Layout) -> None:
    found = esrf.match(f"{VISIT}/PROCESSED_DATA/lyso/lyso_0001/lyso_0001.h5")
    assert found == PathInfo("mx2471", "id23eh1", "20240506", "processed", "lyso", "0001")


def test_processed_folders_deeper_than_raw(esrf: Layout) -> None:
    deep = f"{VISIT}/PROCESSED_DATA/lyso/lyso_0001/autoproc/run_01/integrate.h5"
    assert esrf.match(deep) == PathInfo(
        "mx2471", "id23eh1", "20240506", "processed", "lyso", "0001"
    )
    # A sample folder alone still tells the proposal, beamline, session and kind.
    assert esrf.match(f"{VISIT}/PROCESSED_DATA/lyso") == PathInfo(
        "mx2471", "id23eh1", "20240506", "processed", "lyso", None
    )


def test_leading_part_of_the_layout(esrf: Layout) -> None:
    assert esrf.match(VISIT) == PathInfo("mx2471", "id23eh1", "20240506")
    assert esrf.match("/data/visitor/mx2471") == PathInfo(proposal="mx2471")
    # An acquisition folder not named after its sample tells no dataset.
    found = esrf.match(f"{VISIT}/RAW_DATA/lyso/other_0001/other_0001.h5")
    assert (found.kind, found.sample, found.dataset) == ("raw", "lyso", None)


def test_unknown_kind_folder_tells_only_the_visit(esrf: Layout) -> None:
    found = esrf.match(f"{VISIT}/SCRATCH/lyso/lyso_0001/lyso_0001.h5")
    assert found == PathInfo("mx2471", "id23eh1", "20240506")


@pytest.mark.parametrize(
    "path",
    [
        "/home/ada/lyso_0001.h5",
        "/data/inhouse/mx2471/id23eh1/20240506/RAW_DATA/lyso/lyso_0001/lyso_0001.h5",
        "/data/visitors/mx2471/id23eh1/20240506/RAW_DATA/lyso/lyso_0001/lyso_0001.h5",
        "",
    ],
)
def test_paths_outside_the_layout(esrf: Layout, path: str) -> None:
    assert esrf.match(path) == PathInfo()


def test_raw_and_processed_folder_names_are_settings() -> None:
    layout = Layout(Settings().layout, raw_folder="raw", processed_folder="processed")
    assert layout.match(f"{VISIT}/raw/s/s_1/s_1.h5").kind == "raw"
    assert layout.match(f"{VISIT}/processed/s/s_1/s_1.h5").kind == "processed"
    assert layout.match(f"{VISIT}/RAW_DATA/s/s_1/s_1.h5").kind is None


def test_custom_template() -> None:
    # A facility that files data by beamline, then proposal and visit, then run number.
    layout = Layout("/dls/{beamline}/data/{session}/{proposal}/{dataset}.nxs")
    found = layout.match("/dls/i16/data/2024/cm12345-1/i16-1001.nxs")
    assert found == PathInfo(
        proposal="cm12345-1", beamline="i16", session="2024", dataset="i16-1001"
    )
    # Anchored at the root: the same tree mounted elsewhere does not match whole.
    assert layout.match("/mnt/dls/i16/data/2024/cm12345-1/i16-1001.nxs") == PathInfo()
    # Its leading part still matches a folder.
    assert layout.match("/dls/i16/data/2024") == PathInfo(beamline="i16", session="2024")


def test_repeated_placeholder_must_agree() -> None:
    layout = Layout(".../data/{proposal}/{dataset}/{dataset}.h5")
    assert layout.match("/x/data/p1/scan_1/scan_1.h5") == PathInfo(proposal="p1", dataset="scan_1")
    # A file not named after its folder: only the folder's part of the layout matches.
    assert layout.match("/x/data/p1/scan_1/scan_2.h5") == PathInfo(proposal="p1", dataset="scan_1")
    assert Layout("/{proposal}/{dataset}/{dataset}.h5").match("/p1/a/b.h5") == PathInfo(
        proposal="p1", dataset="a"
    )


def test_unknown_placeholder_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Layout(".../visitor/{proposal}/{beamline}/{run}/{dataset}.h5")
    assert "{run}" in caught.value.detail
    assert "proposal, beamline, session, kind, sample, dataset" in caught.value.detail
