"""Archiving datasets a batch at a time: each batch's bundles are packed, read back and
verified, and only then are the online copies removed.

Each step is committed to ``ArchiveBundle.state`` for the whole batch before the next
starts (packing → packed → verified → complete), so a pass killed anywhere leaves the
online copy, or a verified bundle, or both; the next pass picks each bundle up where it
stopped (``fairbeam.policy.service.resume_unfinished``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, insert, select, update
from sqlalchemy.orm import Session

from fairbeam.audit.service import record, record_all
from fairbeam.catalogue.models import Datafile, Dataset, Investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import NotFound
from fairbeam.policy import bundle as files
from fairbeam.policy.archive import (
    LIVE_BUNDLE,
    ArchiveOutcome,
    BundleRow,
    DatasetRow,
    Sessions,
    bundle_file,
    problem_already_recorded,
    slug,
    years_later,
)
from fairbeam.policy.archive_files import (
    check_online_copy,
    checksum_algorithm,
    folders_and_files,
    remove_online_copy,
)
from fairbeam.policy.bundle import BundleError, Source
from fairbeam.policy.faults import fault_point
from fairbeam.policy.models import ArchiveBundle, BundleState, StorageState

# Datasets are archived in batches: each step of the state machine is one commit for the
# whole batch (new bundles, packed, verified, archived, complete), the batch's bundles are
# written, read back and its online copies removed by a pool of threads (reads, writes
# and fsyncs release the GIL, and concurrent fsyncs share the filesystem's journal
# commits), and the folders of the batch's renames are fsynced once, before the commit
# that relies on them.
BATCH = 400
WORKERS = 8
LANES = 2
STEPS = (BundleState.packed, BundleState.verified, BundleState.complete)


@dataclass
class _Work:
    """A dataset of the batch in hand: its bundle, its files, its manifest once known."""

    dataset: DatasetRow
    bundle: BundleRow
    folder: Path | None = None
    sources: list[Source] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    new: bool = False  # its bundle was made by this batch: nothing of it on disk yet


_BUNDLE = typing.cast(Table, ArchiveBundle.__table__)
_UPDATE_BY_ID = update(_BUNDLE).where(_BUNDLE.c.id == bindparam("bundle_id"))


class _Batch:
    """One batch of datasets taken through the bundle states, a commit per state. The
    batch reads and writes its rows with one statement per step for all of its bundles
    (an ORM object per bundle and dataset cost more than the files' work)."""

    def __init__(
        self, session: Session, settings: Settings, pool: ThreadPoolExecutor, actor: str
    ) -> None:
        self.session = session
        self.settings = settings
        self.pool = pool
        self.actor = actor
        self.outcomes: dict[int, ArchiveOutcome] = {}

    def run(self, ids: list[int], stop_at: str) -> dict[int, ArchiveOutcome]:
        work = self._start(ids)
        for state in STEPS:
            if not work:
                break
            if state == BundleState.packed:
                work = self._pack(work)
            elif state == BundleState.verified:
                work = self._verify(work)
            else:
                self._remove(work)
            if state == stop_at:
                break
        for item in work:  # stopped early (stop_at): where each bundle is
            self.outcomes.setdefault(
                item.dataset.id, ArchiveOutcome(item.dataset.id, item.bundle.state, item.bundle.id)
            )
        return self.outcomes

    # Helpers -----------------------------------------------------------------

    def _map(self, function: Callable[[_Work], Any], work: list[_Work]) -> list[Any]:
        """``function`` of each item on the pool: its result, or the BundleError or
        OSError it raised (anything else is raised here)."""

        def guarded(item: _Work) -> Any:
            try:
                return function(item)
            except (BundleError, OSError) as exc:
                return exc

        return list(self.pool.map(guarded, work))

    def _set_state(self, work: list[_Work], state: str, **values: Any) -> None:
        """One statement: the bundles of ``work`` are in ``state`` (with ``values``)."""
        if work:
            self.session.execute(
                update(ArchiveBundle)
                .where(ArchiveBundle.id.in_([item.bundle.id for item in work]))
                .values(state=state, **values)
            )
            for item in work:
                item.bundle.state = state

    def _problem(self, dataset_id: int, bundle_id: int | None, problem: str) -> None:
        if not problem_already_recorded(self.session, dataset_id, problem):
            record(self.session, "archive-problem", "dataset", dataset_id, actor=self.actor,
                   problem=problem)  # fmt: skip
        self.outcomes[dataset_id] = ArchiveOutcome(
            dataset_id, "problem", bundle_id, problem=problem
        )

    def _discard(self, item: _Work, error: Exception) -> None:
        """A bundle that could not be written or failed verification is removed; the
        online copy stays."""
        bundle, reason = item.bundle, str(error)
        files.remove_bundle(bundle_file(self.settings, bundle))
        self._set_state([item], BundleState.deleted, deleted=utcnow())
        record(
            self.session, "archive-failed", "dataset", bundle.dataset_id, actor=self.actor,
            bundle=bundle.path, bundle_id=bundle.id, reason=reason,
        )  # fmt: skip
        self.outcomes[bundle.dataset_id] = ArchiveOutcome(
            bundle.dataset_id, "problem", bundle.id, problem=reason
        )

    def _skip(self, dataset_id: int, bundle: BundleRow | None = None) -> None:
        self.outcomes[dataset_id] = ArchiveOutcome(
            dataset_id, "skipped", bundle.id if bundle else None
        )

    # Steps -------------------------------------------------------------------

    def _read(self, ids: list[int]) -> tuple[dict[int, DatasetRow], dict[int, BundleRow]]:
        """The batch's datasets, and the newest live bundle of each that has one."""
        query = (
            select(
                Dataset.id,
                Dataset.storage_state,
                Dataset.location,
                Dataset.name,
                Dataset.start,
                Investigation.code,
            )  # fmt: skip
            .join(Investigation, Investigation.id == Dataset.investigation_id)
            .where(Dataset.id.in_(ids))
        )
        datasets = {row[0]: DatasetRow(*row) for row in self.session.execute(query)}
        bundles: dict[int, BundleRow] = {}
        for row in self.session.execute(
            select(
                ArchiveBundle.id,
                ArchiveBundle.dataset_id,
                ArchiveBundle.path,
                ArchiveBundle.state,
                ArchiveBundle.checksum,
                ArchiveBundle.file_count,
                ArchiveBundle.size,
                ArchiveBundle.bundle_size,
            )  # fmt: skip
            .where(ArchiveBundle.dataset_id.in_(ids), ArchiveBundle.state.in_(LIVE_BUNDLE))
            .order_by(ArchiveBundle.id)
        ):
            bundles[row.dataset_id] = BundleRow(*row)  # the newest wins
        return datasets, bundles

    def _new_bundles(self, datasets: list[DatasetRow]) -> list[BundleRow]:
        """A bundle in state packing for each dataset, named after its id: one insert,
        one update."""
        if not datasets:
            return []
        now = utcnow()
        rows = [
            {
                "dataset_id": dataset.id,
                "path": f"{slug(dataset.investigation)}/dataset_{dataset.id}_",
                "state": BundleState.packing,
                "created": now,
            }
            for dataset in datasets
        ]
        made = (
            self.session.connection()
            .execute(
                insert(_BUNDLE).returning(
                    _BUNDLE.c.id, _BUNDLE.c.path, sort_by_parameter_order=True
                ),
                rows,
            )
            .all()
        )
        self.session.execute(
            update(ArchiveBundle)
            .where(ArchiveBundle.id.in_([row.id for row in made]))
            .values(path=ArchiveBundle.path + cast(ArchiveBundle.id, String) + ".tar")
        )
        return [
            BundleRow(row.id, dataset.id, f"{row.path}{row.id}.tar", BundleState.packing)
            for dataset, row in zip(datasets, made, strict=True)
        ]

    def _start(self, ids: list[int]) -> list[_Work]:
        """New bundles (state packing) for the datasets that have none, the bundles a
        killed pass left, restored datasets checked against their bundle; one commit."""
        datasets, bundles = self._read(ids)
        work: list[_Work] = []
        fresh: list[DatasetRow] = []
        again: list[_Work] = []
        for dataset_id in ids:
            dataset, bundle = datasets.get(dataset_id), bundles.get(dataset_id)
            if dataset is None or dataset.storage_state in (
                StorageState.deleted,
                StorageState.restoring,
            ):
                self._skip(dataset_id, bundle)
            elif bundle is None or bundle.state == BundleState.complete:
                if dataset.storage_state != StorageState.online:
                    self._skip(dataset_id, bundle)
                elif bundle is None:
                    fresh.append(dataset)
                else:
                    again.append(_Work(dataset, bundle))
            else:
                work.append(_Work(dataset, bundle))
        packing = [item.dataset for item in work if item.bundle.state == BundleState.packing]
        found = folders_and_files(self.session, self.settings, fresh + packing)
        for item in work:
            if item.bundle.state == BundleState.packing:
                on_disk = found[item.dataset.id]
                if isinstance(on_disk, str):
                    self._discard(item, BundleError(on_disk))
                else:
                    item.folder, item.sources = on_disk
        work = [item for item in work if item.dataset.id not in self.outcomes]
        ready: list[tuple[DatasetRow, tuple[Path, list[Source]]]] = []
        for dataset in fresh:
            on_disk = found[dataset.id]
            if isinstance(on_disk, str):
                self._problem(dataset.id, None, on_disk)
            else:
                ready.append((dataset, on_disk))
        made = self._new_bundles([dataset for dataset, _ in ready])
        new = [
            _Work(dataset, bundle, *on_disk, new=True)
            for (dataset, on_disk), bundle in zip(ready, made, strict=True)
        ]
        checked = self._map(lambda i: check_online_copy(bundle_file(self.settings, i.bundle),
                                                         i.bundle.id), again)  # fmt: skip
        verified: list[_Work] = []
        for item, result in zip(again, checked, strict=True):
            if isinstance(result, Exception):
                self._problem(item.dataset.id, item.bundle.id, str(result))
            else:
                item.manifest = result
                verified.append(item)
        self._set_state(verified, BundleState.verified)
        self.session.commit()
        return work + verified + new

    def _pack(self, work: list[_Work]) -> list[_Work]:
        """packing → packed: the bundles and their manifests written and fsynced, their
        folders fsynced once; one commit."""
        packing = [item for item in work if item.bundle.state == BundleState.packing]
        targets = {item.bundle.id: bundle_file(self.settings, item.bundle) for item in packing}
        created = utcnow().isoformat()

        def write(item: _Work) -> files.Written:
            # Written in place: the bundle's state (packing) says it may be incomplete
            # until the commit below; a killed pass's leftovers are removed first.
            target = targets[item.bundle.id]
            if not item.new:
                files.remove_bundle(target, sync_folder=False)
            header = {
                "dataset": item.dataset.id,
                "name": item.dataset.name,
                "investigation": item.dataset.investigation,
                "location": item.dataset.location,
                "folder": str(item.folder),
                "bundle": item.bundle.id,
                "created": created,
            }
            algorithm = checksum_algorithm(self.settings, item.sources)
            written = files.write_bundle(
                target, item.sources, header, algorithm, sync_folder=False, in_place=True
            )
            fault_point("archive:during-pack")  # a bundle written, its batch not yet packed
            return written

        results = self._map(write, packing)
        if packing:
            files.fsync_folders([self.settings.archive, *(t.parent for t in targets.values())])
        packed: list[dict[str, Any]] = []
        for item, result in zip(packing, results, strict=True):
            if isinstance(result, Exception):
                self._discard(item, result)
                continue
            bundle = item.bundle
            bundle.state, bundle.checksum = BundleState.packed, result.checksum
            bundle.file_count, bundle.size = len(item.sources), result.size
            bundle.bundle_size = result.bundle_size
            item.manifest = result.manifest
            packed.append(
                {
                    "bundle_id": bundle.id,
                    "state": BundleState.packed,
                    "file_count": bundle.file_count,
                    "size": bundle.size,
                    "bundle_size": bundle.bundle_size,
                    "checksum": bundle.checksum,
                }
            )
        if packed:
            self.session.connection().execute(_UPDATE_BY_ID, packed)
        self.session.commit()
        if packing:
            fault_point("archive:after-pack")
        return [item for item in work if item.dataset.id not in self.outcomes]

    def _verify(self, work: list[_Work]) -> list[_Work]:
        """packed → verified: each bundle read back against its manifest; one commit."""
        packed = [item for item in work if item.bundle.state == BundleState.packed]
        results = self._map(
            lambda i: files.verify_bundle(bundle_file(self.settings, i.bundle), i.bundle.checksum),
            packed,
        )
        verified: list[_Work] = []
        for item, result in zip(packed, results, strict=True):
            if isinstance(result, Exception):
                self._discard(item, result)
            else:
                item.manifest = result
                verified.append(item)
        self._set_state(verified, BundleState.verified, verified=utcnow())
        self.session.commit()
        if packed:
            fault_point("archive:after-verify")
        return [item for item in work if item.dataset.id not in self.outcomes]

    def _remove(self, work: list[_Work]) -> None:
        """verified → complete: the catalogue says archived (one commit), then the online
        copies go, then the bundles are complete with an audit record each (one commit)."""
        session = self.session
        unknown = [item for item in work if item.manifest is None]
        read = self._map(lambda i: files.read_manifest(bundle_file(self.settings, i.bundle)),
                         unknown)  # fmt: skip
        for item, result in zip(unknown, read, strict=True):
            if isinstance(result, Exception):
                self._problem(item.dataset.id, item.bundle.id, str(result))
            else:
                item.manifest = result
        work = [item for item in work if item.manifest is not None]
        switch = [item.dataset.id for item in work if item.dataset.storage_state != "archived"]
        if switch:
            session.execute(
                update(Datafile).where(Datafile.dataset_id.in_(switch)).values(tier="archive")
            )
            session.execute(
                update(Dataset)
                .where(Dataset.id.in_(switch))
                .values(storage_state=StorageState.archived)
            )
        session.commit()
        removed = self._map(lambda i: remove_online_copy(i.manifest or {}), work)
        now = utcnow()
        complete: list[dict[str, Any]] = []
        audit: list[tuple[int, dict[str, Any]]] = []
        for item, result in zip(work, removed, strict=True):
            bundle, dataset = item.bundle, item.dataset
            if isinstance(result, Exception):
                # Archived and verified; the next pass removes what is left.
                self._problem(dataset.id, bundle.id, f"online copy not removed: {result}")
                continue
            bundle.state = BundleState.complete
            complete.append(
                {
                    "bundle_id": bundle.id,
                    "state": BundleState.complete,
                    "completed": now,
                    "keep_until": years_later(dataset.start, self.settings.retention_years),
                }
            )
            manifest = item.manifest or {}
            audit.append(
                (
                    dataset.id,
                    {
                        "bundle": bundle.path,
                        "bundle_id": bundle.id,
                        "size": bundle.size,
                        "bundle_size": bundle.bundle_size,
                        "files": bundle.file_count,
                        "folder": str(manifest["folder"]),
                    },
                )
            )
            self.outcomes[dataset.id] = ArchiveOutcome(
                dataset.id, "archived", bundle.id, bundle.file_count, bundle.size
            )
        if complete:
            session.connection().execute(_UPDATE_BY_ID, complete)
        record_all(session, "archive", "dataset", audit, actor=self.actor)
        session.commit()


def archive_datasets(
    sessions: Sessions,
    settings: Settings,
    dataset_ids: Sequence[int],
    actor: str = "policy",
    *,
    batch: int = BATCH,
    lanes: int = LANES,
    stop_at: str = BundleState.complete,
) -> list[ArchiveOutcome]:
    """Archive datasets, or finish the bundles a killed pass left half-way, ``batch`` at
    a time: an outcome per id, in order. Each batch's bundles go through packing →
    packed → verified → complete together, the state committed before each step that
    relies on it, so a kill leaves every file online or in a verified bundle (or both)
    and the next pass finishes. On PostgreSQL ``lanes`` batches run side by side (one's
    commits while another's files are written); SQLite, one writer at a time, runs one.
    ``stop_at`` (packed, verified) stops each batch there."""
    ids = list(dict.fromkeys(dataset_ids))
    parts = [ids[start : start + batch] for start in range(0, len(ids), batch)]
    outcomes: dict[int, ArchiveOutcome] = {}
    with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            lanes = 1
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="fairbeam-archive") as pool:

        def run(part: list[int]) -> dict[int, ArchiveOutcome]:
            with sessions() as session:
                return _Batch(session, settings, pool, actor).run(part, stop_at)

        if lanes <= 1 or len(parts) <= 1:
            for part in parts:
                outcomes.update(run(part))
        else:
            with ThreadPoolExecutor(lanes, thread_name_prefix="fairbeam-batch") as runner:
                for done in runner.map(run, parts):
                    outcomes.update(done)
    return [outcomes[dataset_id] for dataset_id in dataset_ids]


def archive_dataset(
    sessions: Sessions, settings: Settings, dataset_id: int, actor: str = "policy"
) -> ArchiveOutcome:
    """Archive one dataset, or finish the bundle a killed pass left half-way."""
    with sessions() as session:
        if session.get(Dataset, dataset_id) is None:
            raise NotFound(f"dataset {dataset_id} not found")
    (outcome,) = archive_datasets(sessions, settings, [dataset_id], actor)
    return outcome
