"""What a registration batch changes in the counters (per dataset summary row and per
investigation), gathered while the batch is written and applied once at its end."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, update
from sqlalchemy.orm import Session

from fairbeam.catalogue.bulk import upsert_insert
from fairbeam.catalogue.models import DatasetSummary, Investigation

SummaryKey = tuple[int, str, int, int, str]  # investigation, technique, year, month, type


@dataclass
class Totals:
    datasets: int = 0
    files: int = 0
    volume: int = 0

    def add(self, datasets: int, files: int, volume: int) -> None:
        self.datasets += datasets
        self.files += files
        self.volume += volume


@dataclass
class Plan:
    """What one batch changes in the counters, applied at the end in a fixed order."""

    summary: dict[tuple[SummaryKey, int], Totals] = field(
        default_factory=lambda: defaultdict(Totals)
    )
    investigations: dict[int, Totals] = field(default_factory=lambda: defaultdict(Totals))
    # The latest start of a dataset written into each investigation.
    newest: dict[int, datetime] = field(default_factory=dict)

    def count(
        self,
        key: SummaryKey,
        instrument_id: int,
        datasets: int,
        files: int,
        volume: int,
        start: datetime | None = None,
    ) -> None:
        """Add to the counts of a summary row and its investigation; ``start`` is that of
        a dataset written (not of one taken away)."""
        self.summary[(key, instrument_id)].add(datasets, files, volume)
        self.investigations[key[0]].add(datasets, files, volume)
        if start is not None:
            known = self.newest.get(key[0])
            self.newest[key[0]] = start if known is None or start > known else known


def apply_counts(session: Session, plan: Plan) -> None:
    """Add the batch's counts to the summary rows and the investigations."""
    # Fixed order, so concurrent batches take row locks in the same order.
    rows = [
        {
            "investigation_id": key[0],
            "technique": key[1],
            "year": key[2],
            "month": key[3],
            "type": key[4],
            "instrument_id": instrument_id,
            "datasets": t.datasets,
            "files": t.files,
            "volume_bytes": t.volume,
        }
        for (key, instrument_id), t in sorted(plan.summary.items())
        if t.datasets or t.files or t.volume
    ]
    if rows:
        statement = upsert_insert(session, DatasetSummary.__table__)
        table = DatasetSummary.__table__.c
        statement = statement.on_conflict_do_update(
            index_elements=["investigation_id", "technique", "year", "month", "type"],
            set_={
                "datasets": table.datasets + statement.excluded.datasets,
                "files": table.files + statement.excluded.files,
                "volume_bytes": table.volume_bytes + statement.excluded.volume_bytes,
            },
        )
        session.execute(statement, rows)
    changes = [
        {
            "fb_id": key,
            "fb_datasets": t.datasets,
            "fb_files": t.files,
            "fb_volume": t.volume,
            "fb_newest": plan.newest.get(key),
        }
        for key, t in sorted(plan.investigations.items())
        if t.datasets or t.files or t.volume or key in plan.newest
    ]
    if changes:
        # One executemany (pipelined by the driver), not one round trip per investigation.
        investigations = cast(Table, Investigation.__table__)
        table = investigations.c
        newest = bindparam("fb_newest", type_=table.newest_dataset_start.type)
        session.connection().execute(
            update(investigations)
            .where(table.id == bindparam("fb_id"))
            .values(
                dataset_count=table.dataset_count + bindparam("fb_datasets"),
                file_count=table.file_count + bindparam("fb_files"),
                volume_bytes=table.volume_bytes + bindparam("fb_volume"),
                # Only ever later: a bound on the investigation's dataset starts, which
                # a dataset deleted or moved earlier leaves as it was.
                newest_dataset_start=case(
                    (
                        table.newest_dataset_start.is_(None)
                        | (table.newest_dataset_start < newest),
                        newest,
                    ),
                    else_=table.newest_dataset_start,
                ),
            ),
            changes,
        )
