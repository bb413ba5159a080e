"""The watcher: real files written by h5py while real watchers (threads, processes) run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetParameter,
    Instrument,
    ParameterType,
)
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.ingest.models import HarvestState
from fairbeam.ingest.service import Harvester, Outcome
from fairbeam.ingest.watch import Watcher
from tests.ingest.files import entry, write_bliss_multiscan, write_swmr_open

FAIRBEAM = Path(sys.executable).parent / "fairbeam"
SESSION = "visitor/mx1234/id23/20240506/RAW_DATA"


@pytest.fixture
def root(settings: Settings, session: Session) -> Path:
    """The data root, with the beamline its layout names known to the catalogue."""
    session.add(Instrument(name="ID23"))
    session.commit()
    root = settings.data_roots[0]
    root.mkdir(parents=True)
    return root


@pytest.fixture
def harvester(settings: Settings, engine: Engine) -> Harvester:
    """A harvester on this test's catalogue."""
    return Harvester(make_sessionmaker(engine), settings, SYSTEM)


def master(root: Path, number: int, sample: str = "lyso") -> Path:
    """The master file path of acquisition ``number``, its folder created."""
    folder = root / SESSION / sample / f"{sample}_{number:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{folder.name}.h5"


def add_scan(path: Path) -> int:
    """Append a scan and its detector frames file to a master, as a beamline does; count them."""
    with h5py.File(path, "a") as f:
        number = len(f) + 1
        frames = path.with_name(f"{path.stem}_eiger_{number:04d}.h5")
        with h5py.File(frames, "w") as ff:
            ff["entry/data/data"] = np.ones((4, 8, 8), dtype="u2")
        scan = entry(f, f"{number}.1", f"loopscan {number}")
        scan["instrument/eiger/data"] = h5py.ExternalLink(frames.name, "/entry/data/data")
    return number


def counts(engine: Engine) -> tuple[int, int, int]:
    """Datasets, distinct dataset locations and datafiles in the catalogue."""
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Dataset)) or 0,
            session.scalar(select(func.count(func.distinct(Dataset.location)))) or 0,
            session.scalar(select(func.count()).select_from(Datafile)) or 0,
        )


def parameter(engine: Engine, dataset: str, name: str) -> object:
    """The value of one parameter of the dataset named ``dataset``."""
    with Session(engine) as session:
        return session.scalar(
            select(DatasetParameter.value)
            .join(Dataset, Dataset.id == DatasetParameter.dataset_id)
            .join(ParameterType, ParameterType.id == DatasetParameter.type_id)
            .where(Dataset.name == dataset, ParameterType.name == name)
        )


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


Reported = list[tuple[float, Outcome]]


def make_watcher(
    harvester: Harvester, root: Path, settle: float, marker: str = ""
) -> tuple[Watcher, Reported]:
    """A watcher of ``root``, and the outcomes it reports with the time it reported them."""
    reported: Reported = []
    watcher = Watcher(
        harvester,
        [root],
        settle=settle,
        poll=0.1,
        marker=marker,
        on_outcome=lambda o: reported.append((time.time(), o)),
    )
    return watcher, reported


@contextmanager
def running(watcher: Watcher, *, polling: bool = False) -> Iterator[None]:
    """Run the watcher in a thread; stop it and raise what it raised on the way out."""
    stop = threading.Event()
    raised: list[BaseException] = []

    def target() -> None:
        try:
            watcher.run(stop, polling=polling)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the watcher did not stop"
    if raised:
        raise raised[0]


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_new_dataset_is_registered_once_after_settling(
    root: Path, harvester: Harvester, engine: Engine, polling: bool
) -> None:
    watcher, reported = make_watcher(harvester, root, settle=0.5)
    with running(watcher, polling=polling):
        path = write_bliss_multiscan(master(root, 1), scans=2, frames=True)
        written = time.time()
        wait_until(lambda: counts(engine)[0] == 1)
        done = len(reported)
        time.sleep(0.5)  # a few more looks: nothing more to do
    assert [o.status for _, o in reported] == ["created"] and done == 1
    assert reported[0][0] - written >= 0.45
    assert counts(engine) == (1, 1, 3)  # the master and its two frames files
    with Session(engine) as session:
        dataset = session.scalars(select(Dataset)).one()
        assert dataset.location == str(path.parent) and dataset.name == "lyso_0001"


def test_a_growing_file_is_registered_once_it_stops(
    root: Path, harvester: Harvester, engine: Engine
) -> None:
    watcher, reported = make_watcher(harvester, root, settle=0.5)
    path = master(root, 2)
    with running(watcher):
        growth_ends = time.monotonic() + 1.5
        while time.monotonic() < growth_ends:
            scans = add_scan(path)
            time.sleep(0.1)
        stopped = time.time()
        assert counts(engine)[0] == 0, "harvested while it was still growing"
        wait_until(lambda: counts(engine)[0] == 1)
    assert [o.status for _, o in reported] == ["created"]
    assert reported[0][0] - stopped >= 0.45
    assert counts(engine) == (1, 1, scans + 1)
    assert parameter(engine, "lyso_0002", "scan_count") == scans


def test_a_file_open_for_writing_waits_for_its_writer(
    root: Path, harvester: Harvester, engine: Engine
) -> None:
    watcher, _ = make_watcher(harvester, root, settle=0.2)
    path = master(root, 3)
    with write_swmr_open(path):
        watcher.step(full=True)
        wait_until(lambda: bool(watcher.step(full=False)) or path.parent in watcher.held)
        assert counts(engine)[0] == 0, "harvested while its writer had it open"
    wait_until(lambda: bool(watcher.step(full=False)))
    assert counts(engine)[:2] == (1, 1)
    assert parameter(engine, "lyso_0003", "title") == "still acquiring"


def test_the_marker_file_triggers_the_harvest_at_once(
    root: Path, harvester: Harvester, engine: Engine
) -> None:
    watcher, _ = make_watcher(harvester, root, settle=3600, marker=".finished")
    finished = write_bliss_multiscan(master(root, 4))
    write_bliss_multiscan(master(root, 5))
    (finished.parent / ".finished").touch()
    outcomes = watcher.step(full=True)
    assert [(o.status, o.location) for o in outcomes] == [("created", str(finished.parent))]
    assert set(watcher.pending) == {master(root, 5).parent}
    assert watcher.step(full=False) == [] and counts(engine)[0] == 1


def test_a_restart_catches_up_without_duplicating(
    root: Path, harvester: Harvester, engine: Engine
) -> None:
    paths = [write_bliss_multiscan(master(root, n), frames=True) for n in (6, 7, 8)]
    hour_ago = time.time() - 3600
    for path in paths:
        for file in path.parent.iterdir():
            os.utime(file, (hour_ago, hour_ago))  # written an hour ago
    harvester.ingest([paths[0].parent])  # harvested before the watcher stopped
    watcher, reported = make_watcher(harvester, root, settle=600)
    started = time.monotonic()
    watcher.run(threading.Event(), once=True)
    assert time.monotonic() - started < 60, "files unchanged for an hour are settled already"
    assert sorted((o.status, o.location) for _, o in reported) == [
        ("created", str(paths[1].parent)),
        ("created", str(paths[2].parent)),
    ]
    assert counts(engine) == (3, 3, 12)
    again, reported_again = make_watcher(harvester, root, settle=600)
    again.run(threading.Event(), once=True)
    assert reported_again == [] and counts(engine) == (3, 3, 12)


class WatchProcess:
    """`fairbeam watch` as a real process, its output in files under tmp_path."""

    def __init__(self, settings: Settings, root: Path, tmp_path: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRBEAM_")}
        self.env |= {
            "FAIRBEAM_DATABASE_URL": settings.database_url,
            "FAIRBEAM_VAR": str(settings.var),
            "FAIRBEAM_DATA_ROOTS": str(root),
            "FAIRBEAM_WATCH_POLL_SECONDS": "0.2",
            # Reading in the watcher's own process spares starting a pool per run.
            "FAIRBEAM_HARVEST_WORKERS": "1",
        }
        self.root = root
        self.tmp_path = tmp_path
        self.runs = 0

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        self.runs += 1
        out = (self.tmp_path / f"watch{self.runs}.out").open("wb")
        err = (self.tmp_path / f"watch{self.runs}.err").open("wb")
        command = [str(FAIRBEAM), "watch", str(self.root), "--settle", "0.5", "--json", *args]
        return subprocess.Popen(
            command, env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )

    def outcomes(self, run: int) -> list[dict[str, object]]:
        text = (self.tmp_path / f"watch{run}.out").read_text()
        return [json.loads(line) for line in text.splitlines()]


class Acquiring:
    """A scan loop appending to a master file in a thread until stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.scans = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.is_set():
            self.scans = add_scan(self.path)
            self.done.wait(0.1)

    def stop(self) -> int:
        self.done.set()
        self.thread.join(timeout=10)
        return self.scans


def test_killed_and_restarted_during_acquisition_registers_each_dataset_once(
    root: Path, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    watch = WatchProcess(settings, root, tmp_path)
    first = watch.start()
    try:
        for n in (1, 2):
            write_bliss_multiscan(master(root, n), scans=2, frames=True)
        acquiring = Acquiring(master(root, 3))
        wait_until(lambda: counts(engine)[0] >= 2)
        write_bliss_multiscan(master(root, 4), scans=2, frames=True)
        time.sleep(0.6)  # about when dataset 4 has settled and is being harvested
    finally:
        first.kill()  # SIGKILL, while dataset 3 is being acquired
        first.wait(timeout=10)
    write_bliss_multiscan(master(root, 5), scans=2, frames=True)  # while nobody watched
    second = watch.start()
    try:
        wait_until(lambda: counts(engine)[0] >= 4)
        scans = acquiring.stop()
        wait_until(lambda: counts(engine)[0] == 5)
        time.sleep(0.6)  # longer than the settle time: nothing is registered twice
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, (tmp_path / "watch2.err").read_text()
    assert first.returncode == -signal.SIGKILL
    # Four datasets of a master and two frames files, and dataset 3 with all its scans.
    assert counts(engine) == (5, 5, 4 * 3 + scans + 1)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(HarvestState)) == 5
    assert parameter(engine, "lyso_0003", "scan_count") == scans
    assert all(o["status"] in ("created", "updated") for o in watch.outcomes(2))


def test_once_prints_json_lines_and_exits(
    root: Path, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    for n in (1, 2):
        write_bliss_multiscan(master(root, n))
    watch = WatchProcess(settings, root, tmp_path)
    process = watch.start("--once")
    assert process.wait(timeout=60) == 0, (tmp_path / "watch1.err").read_text()
    outcomes = watch.outcomes(1)
    assert sorted((o["status"], o["location"]) for o in outcomes) == [
        ("created", str(master(root, n).parent)) for n in (1, 2)
    ]
    assert all(isinstance(o["dataset_id"], int) for o in outcomes)
    assert counts(engine) == (2, 2, 2)
