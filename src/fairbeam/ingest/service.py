"""Harvest: find acquisitions, read them in parallel, register them, remember them.

Unchanged acquisitions (same files, sizes and times as last time) are skipped without
being read, so harvesting a tree again costs a stat walk. A file that cannot be read
gives one line and a problem record; the rest of the batch goes on; a dataset is
registered whole or not at all.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.policy import Principal
from fairbeam.catalogue.announce import announce_registered
from fairbeam.catalogue.bulk import upsert_insert
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn, Registered
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import FairbeamError, InvalidInput
from fairbeam.events import EventBus
from fairbeam.ingest.build import Hints, Names, dataset_request
from fairbeam.ingest.discovery import Acquisition, find_acquisitions
from fairbeam.ingest.layout import Layout
from fairbeam.ingest.models import HarvestProblem, HarvestState
from fairbeam.ingest.read import AcquisitionRead, ReadOptions, read_acquisition

BATCH = 200


@dataclass
class Outcome:
    """What happened to one acquisition or dataset."""

    location: str
    status: str  # created, updated, unchanged, failed
    dataset_id: int | None = None
    message: str | None = None


@dataclass
class IngestReport:
    """The result of a harvest: one outcome per dataset, one line per failure."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many outcomes have ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[Outcome]:
        """The outcomes that failed."""
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> dict[str, int]:
        """Counts by status."""
        return {s: self.count(s) for s in ("created", "updated", "unchanged", "failed")}


def check_under_roots(paths: Iterable[Path], roots: Sequence[Path]) -> list[Path]:
    """The paths, refused unless each lies under one of the data roots."""
    resolved_roots = [root.resolve() for root in roots]
    checked = []
    for path in paths:
        resolved = Path(path).resolve()
        if not any(resolved.is_relative_to(root) for root in resolved_roots):
            allowed = ", ".join(str(r) for r in roots) or "none are configured"
            raise InvalidInput(f"path {path} is outside the data roots ({allowed})")
        checked.append(resolved)
    return checked


class Harvester:
    """Harvests paths into the catalogue with the rights of ``principal``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        principal: Principal,
        events: EventBus | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.principal = principal
        self.events = events
        self.layout = Layout(settings.layout, settings.raw_folder, settings.processed_folder)

    def options(self, paths: Sequence[Path]) -> ReadOptions:
        """Reading options: links are followed only inside the data roots (or the paths)."""
        roots = tuple(self.settings.data_roots) or tuple(Path(p).absolute() for p in paths)
        return ReadOptions(
            data_roots=roots,
            checksum=self.settings.checksum,
            checksum_max_bytes=self.settings.checksum_max_bytes,
        )

    def ingest(
        self,
        paths: Sequence[Path],
        hints: Hints | None = None,
        force: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Harvest every acquisition under ``paths``."""
        report = IngestReport()
        acquisitions: list[Acquisition] = []
        for path in paths:
            try:
                acquisitions.extend(find_acquisitions([path]))
            except FairbeamError as exc:
                report.outcomes.append(Outcome(str(path), "failed", message=exc.detail))
        changed = acquisitions if force else self._changed(acquisitions, report)
        total = len(changed)
        if progress:
            progress(0, total)
        done = 0
        pending: list[AcquisitionRead] = []
        for read in self._read_all(changed, self.options(paths)):
            pending.append(read)
            if len(pending) >= BATCH:
                self._register(pending, hints or Hints(), report)
                done += len(pending)
                pending = []
                if progress:
                    progress(done, total)
        if pending:
            self._register(pending, hints or Hints(), report)
        if progress:
            progress(total, total)
        return report

    def _changed(self, acquisitions: list[Acquisition], report: IngestReport) -> list[Acquisition]:
        known: dict[str, str] = {}
        with self.sessions() as session:
            keys = [str(a.folder if a.whole_folder else a.masters[0]) for a in acquisitions]
            for start in range(0, len(keys), 500):
                rows = session.execute(
                    select(HarvestState.location, HarvestState.fingerprint).where(
                        HarvestState.location.in_(keys[start : start + 500])
                    )
                )
                known.update({location: fingerprint for location, fingerprint in rows})
        changed = []
        for acquisition, key in zip(acquisitions, keys, strict=True):
            if known.get(key) == acquisition.fingerprint:
                report.outcomes.append(Outcome(key, "unchanged"))
            else:
                changed.append(acquisition)
        return changed

    def _read_all(
        self, acquisitions: list[Acquisition], options: ReadOptions
    ) -> Iterator[AcquisitionRead]:
        workers = min(self.settings.harvest_workers, len(acquisitions))
        if workers <= 1:
            for acquisition in acquisitions:
                yield read_acquisition(acquisition, options)
            return
        # Forking a process that runs no other thread (the command line's harvest) is
        # safe and spares the workers a second import of the whole command (1.3 s);
        # beside threads (a progress bar, the watcher, a server) fork could deadlock.
        method = "fork" if threading.active_count() == 1 else "forkserver"
        context = multiprocessing.get_context(method)
        chunk = max(4, min(16, len(acquisitions) // (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield from pool.map(
                read_acquisition, acquisitions, [options] * len(acquisitions), chunksize=chunk
            )

    def _register(self, reads: list[AcquisitionRead], hints: Hints, report: IngestReport) -> None:
        with self.sessions() as session:
            names = Names(session)
            # Acquisitions that failed for a reason of the catalogue's (an unknown
            # beamline, a missing right) are read again next time; a file that cannot
            # be read is read again only once it changes.
            unsettled: set[int] = set()
            requests: list[tuple[DatasetIn, list[str], AcquisitionRead]] = []
            for read in reads:
                for path, message in read.failures:
                    report.outcomes.append(Outcome(str(path), "failed", message=message))
                    session.add(HarvestProblem(path=str(path), severity="error", message=message))
                for dataset in read.datasets:
                    try:
                        request = dataset_request(
                            dataset, read.acquisition.whole_folder, self.layout, names, hints
                        )
                    except FairbeamError as exc:
                        unsettled.add(id(read))
                        report.outcomes.append(
                            Outcome(str(dataset.location), "failed", message=exc.detail)
                        )
                        session.add(
                            HarvestProblem(
                                path=str(dataset.master.path), severity="error", message=exc.detail
                            )
                        )
                        continue
                    requests.append((request, dataset.master.problems, read))
            session.commit()
            registered = self._register_requests(session, requests, report, unsettled)
            self._remember(session, [r for r in reads if id(r) not in unsettled])
            session.commit()
        self._publish(registered)

    def _register_requests(
        self,
        session: Session,
        requests: list[tuple[DatasetIn, list[str], AcquisitionRead]],
        report: IngestReport,
        unsettled: set[int],
    ) -> list[Registered]:
        items = [request for request, _, _ in requests]
        results: list[Registered | None] = []
        try:
            results.extend(register_datasets(session, self.principal, items))
            session.flush()
        except FairbeamError:
            session.rollback()
            results = []
            # One bad dataset must not hold back the others: register them one by one.
            for request, _, read in requests:
                try:
                    results.extend(register_datasets(session, self.principal, [request]))
                    session.commit()
                except FairbeamError as exc:
                    session.rollback()
                    unsettled.add(id(read))
                    results.append(None)
                    report.outcomes.append(Outcome(request.location, "failed", message=exc.detail))
                    session.add(
                        HarvestProblem(path=request.location, severity="error", message=exc.detail)
                    )
                    session.commit()
        registered: list[Registered] = []
        for result, (request, problems, _) in zip(results, requests, strict=True):
            if result is None:
                continue
            report.outcomes.append(
                Outcome(
                    request.location,
                    "created" if result.created else "updated",
                    result.id,
                    "; ".join(problems) or None,
                )
            )
            for problem in problems:
                session.add(
                    HarvestProblem(
                        path=request.location,
                        severity="warning",
                        message=problem,
                        dataset_id=result.id,
                    )
                )
            registered.append(result)
        return registered

    def _remember(self, session: Session, reads: list[AcquisitionRead]) -> None:
        if not reads:
            return
        rows = [
            {
                "location": str(
                    r.acquisition.folder if r.acquisition.whole_folder else r.acquisition.masters[0]
                ),
                "fingerprint": r.acquisition.fingerprint,
            }
            for r in reads
        ]
        statement = upsert_insert(session, HarvestState.__table__)
        statement = statement.on_conflict_do_update(
            index_elements=["location"],
            set_={
                "fingerprint": statement.excluded.fingerprint,
                "harvested": statement.excluded.harvested,
            },
        )
        session.execute(statement, [row | {"harvested": utcnow()} for row in rows])

    def _publish(self, registered: list[Registered]) -> None:
        with self.sessions() as session:
            announce_registered(
                session, self.events, registered, "harvest", self.principal.username
            )
