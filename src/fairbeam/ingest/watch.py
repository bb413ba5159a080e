"""The watcher: harvest each acquisition once it is finished, and catch up after a restart.

Filesystem events (inotify through watchdog, or watchdog's polling observer) only mark
folders as worth a look; a periodic rescan of the whole tree backs them up, because
inotify misses writes made from other hosts on network file systems such as GPFS.
Whether to harvest is decided from the files themselves: an acquisition is finished
when its files have kept their sizes and times for the settle time and no writer holds
its master file open, or at once when its marker file exists. Finished acquisitions go
through `Harvester.ingest`, whose stored fingerprints and idempotent registration make
a restart after a crash register nothing twice.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from fairbeam.errors import HarvestError, InvalidInput
from fairbeam.ingest.build import Hints
from fairbeam.ingest.discovery import Acquisition, find_acquisitions, named_master
from fairbeam.ingest.models import HarvestState
from fairbeam.ingest.nexus import open_hdf5
from fairbeam.ingest.service import Harvester, Outcome

log = logging.getLogger(__name__)

# Events that can mean new or changed data; opening or reading a file (as the
# harvest itself does) is not one of them.
CHANGES = {"created", "modified", "moved", "deleted", "closed"}
# A full rescan costs a stat walk of the tree: on a large tree it runs less often
# than every poll, so that walking takes no more than about a twentieth of the time.
RESCAN_SHARE = 20


@dataclass
class Pending:
    """An acquisition seen changed and not yet harvested."""

    acquisition: Acquisition
    fingerprint: str
    since: float  # wall-clock time from which its files have not changed


def acquisition_key(acquisition: Acquisition) -> Path:
    """The path the harvest state is stored under: the folder, or the lone master file."""
    return acquisition.folder if acquisition.whole_folder else acquisition.masters[0]


def harvest_units(acquisitions: Iterable[Acquisition]) -> Iterator[Acquisition]:
    """The acquisitions as `Harvester.ingest` sees them when given each one's key.

    A folder named after its master is one unit; a folder of loose HDF5 files gives one
    unit per file, so that a harvest never reaches into sub-folders still being written.
    """
    for acquisition in acquisitions:
        if acquisition.whole_folder:
            yield acquisition
            continue
        for master in acquisition.masters:
            try:
                yield from find_acquisitions([master])
            except InvalidInput:
                continue  # vanished since the walk


def is_open_for_writing(path: Path) -> bool:
    """True while a writer holds the HDF5 file open (SWMR, or a plain locked writer)."""
    try:
        handle, writing, _ = open_hdf5(path)
    except HarvestError:
        return False  # not readable as it stands: the harvest says why, in one line
    handle.close()
    return writing


class _MarkDirty(FileSystemEventHandler):
    """Passes the paths of changes to the watcher."""

    def __init__(self, mark: Callable[[Path], None]) -> None:
        self.mark = mark

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in CHANGES:
            return
        self.mark(Path(os.fsdecode(event.src_path)))
        if event.dest_path:
            self.mark(Path(os.fsdecode(event.dest_path)))


class Watcher:
    """Watches folders and harvests every acquisition below them once it is finished."""

    def __init__(
        self,
        harvester: Harvester,
        roots: Sequence[Path],
        *,
        settle: float,
        poll: float,
        marker: str = "",
        hints: Hints | None = None,
        on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    ) -> None:
        self.harvester = harvester
        self.roots = [Path(root).absolute() for root in roots]
        for root in self.roots:
            if not root.is_dir():
                raise InvalidInput(f"{root} is not a folder; fairbeam watch watches folders")
        self.settle = settle
        self.poll = poll
        self.marker = marker
        self.hints = hints or Hints()
        self.on_outcome = on_outcome
        self.pending: dict[Path, Pending] = {}
        self.seen: dict[Path, str] = {}  # key -> fingerprint harvested (or failed) last
        self.held: set[Path] = set()  # settled, but a writer still has the master open
        self.failed = 0
        self._dirty: set[Path] = set()
        self._lock = threading.Lock()
        self._next_rescan = 0.0

    def mark(self, path: Path) -> None:
        """Note that something changed at ``path``; it is looked at on the next step."""
        with self._lock:
            self._dirty.add(path)

    def run(self, stop: threading.Event, *, once: bool = False, polling: bool = False) -> None:
        """Catch up, then harvest what becomes finished until ``stop`` is set.

        With ``once``, return as soon as every acquisition found by the first pass is
        harvested, or left for the next run because a writer still holds it open.
        """
        observer = None if once else self.start_observer(polling)
        try:
            self.step(full=True)
            while not stop.is_set():
                if once and set(self.pending) <= self.held:
                    return
                stop.wait(self.poll)
                if not stop.is_set():
                    self.step(full=not once and time.monotonic() >= self._next_rescan)
        finally:
            if observer is not None:
                observer.stop()
                observer.join(timeout=10)

    def start_observer(self, polling: bool) -> BaseObserver | None:
        """Start watchdog's observer on every root; None if the system refuses one."""
        observer: BaseObserver = PollingObserver(timeout=self.poll) if polling else Observer()
        handler = _MarkDirty(self.mark)
        try:
            for root in self.roots:
                observer.schedule(handler, str(root), recursive=True)
            observer.start()
        except OSError as exc:
            # Typically the inotify watch limit on a very large tree: rescans still find it all.
            log.warning("no filesystem events (%s); relying on rescans every %ss", exc, self.poll)
            return None
        return observer

    def step(self, *, full: bool) -> list[Outcome]:
        """Look at what changed (everything when ``full``); harvest what is finished."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        started = time.monotonic()
        if full:
            targets = list(self.roots)
        else:
            targets = sorted({*self._owners(dirty), *self.pending})
        found = self._scan(targets)
        if full:
            elapsed = time.monotonic() - started
            self._next_rescan = time.monotonic() + max(self.poll, RESCAN_SHARE * elapsed)
        self._observe(found)
        ready = self._ready()
        return self.harvest(ready) if ready else []

    def _owners(self, paths: Iterable[Path]) -> set[Path]:
        """The folder to rescan for each changed path: its acquisition's, or its own."""
        owners = set()
        for path in paths:
            root = next((r for r in self.roots if path.is_relative_to(r)), None)
            if root is None:
                continue
            folder = path
            while folder != root and not folder.is_dir():
                folder = folder.parent
            owners.add(self._acquisition_folder(folder, root))
        return owners

    def _acquisition_folder(self, folder: Path, root: Path) -> Path:
        # The walk stops at the first folder holding its named master, so the topmost
        # such folder between the root and this one owns everything below it.
        chain = [folder, *(p for p in folder.parents if p.is_relative_to(root))]
        for candidate in reversed(chain):
            try:
                names = os.listdir(candidate)
            except OSError:
                continue
            if named_master(candidate, names) is not None:
                return candidate
        return folder

    def _scan(self, targets: Iterable[Path]) -> dict[Path, Acquisition]:
        found: dict[Path, Acquisition] = {}
        for target in targets:
            if not target.exists():
                continue
            try:
                for unit in harvest_units(find_acquisitions([target])):
                    found[acquisition_key(unit)] = unit
            except InvalidInput:
                continue  # vanished while walked
        return found

    def _observe(self, found: dict[Path, Acquisition]) -> None:
        now = time.time()
        fresh: list[Path] = []
        for key in [k for k in self.pending if k not in found]:
            del self.pending[key]  # deleted or moved away
            self.held.discard(key)
        for key, acquisition in found.items():
            fingerprint = acquisition.fingerprint
            if self.seen.get(key) == fingerprint:
                continue
            current = self.pending.get(key)
            if current is None:
                # First sight: files untouched for long enough (as after a restart)
                # are settled already; clock skew can only make the wait longer.
                newest = max((s.mtime_ns for s in acquisition.files), default=0) / 1e9
                self.pending[key] = Pending(acquisition, fingerprint, min(now, newest))
                fresh.append(key)
            elif current.fingerprint != fingerprint:
                self.pending[key] = Pending(acquisition, fingerprint, now)
                self.held.discard(key)
        self._forget_harvested(fresh)

    def _forget_harvested(self, keys: list[Path]) -> None:
        """Drop from ``pending`` what the catalogue has harvested as it is now."""
        with self.harvester.sessions() as session:
            for start in range(0, len(keys), 500):
                chunk = {str(k): k for k in keys[start : start + 500]}
                rows = session.execute(
                    select(HarvestState.location, HarvestState.fingerprint).where(
                        HarvestState.location.in_(chunk)
                    )
                )
                for location, fingerprint in rows:
                    key = chunk[location]
                    if self.pending[key].fingerprint == fingerprint:
                        self.seen[key] = fingerprint
                        del self.pending[key]

    def _ready(self) -> list[Path]:
        now = time.time()
        ready = []
        for key, pending in self.pending.items():
            acquisition = pending.acquisition
            if self.marker and (acquisition.folder / self.marker).exists():
                ready.append(key)
            elif now - pending.since >= self.settle:
                if any(is_open_for_writing(m) for m in acquisition.masters):
                    self.held.add(key)
                else:
                    self.held.discard(key)
                    ready.append(key)
        return ready

    def harvest(self, keys: list[Path]) -> list[Outcome]:
        """Harvest these acquisitions in one batch and remember them as seen."""
        report = self.harvester.ingest(keys, self.hints)
        for key in keys:
            # A failure is tried again when its files change, or on the next start.
            self.seen[key] = self.pending.pop(key).fingerprint
        outcomes = [o for o in report.outcomes if o.status != "unchanged"]
        self.failed += len(report.failures)
        for outcome in outcomes:
            self.on_outcome(outcome)
        return outcomes
