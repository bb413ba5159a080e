"""What a registration batch changes in the counters (per dataset summary row and per
investigation), gathered while the batch is written and applied once at its end."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, bindparam, update
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

    def count(
        self, key: SummaryKey, instrument_id: int, datasets: int, files: int, volume: int
    ) -> None:
        self.summary[(key, instrument_id)].add(datasets, files, volume)
        self.investigations[key[0]].add(datasets, files, volume)


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
        {"fb_id": key, "fb_datasets": t.datasets, "fb_files": t.files, "fb_volume": t.volume}
        for key, t in sorted(plan.investigations.items())
        if t.datasets or t.files or t.volume
    ]
    if changes:
        # One executemany (pipelined by the driver), not one round trip per investigation.
        investigations = cast(Table, Investigation.__table__)
        table = investigations.c
        session.connection().execute(
            update(investigations)
            .where(table.id == bindparam("fb_id"))
            .values(
                dataset_count=table.dataset_count + bindparam("fb_datasets"),
                file_count=table.file_count + bindparam("fb_files"),
                volume_bytes=table.volume_bytes + bindparam("fb_volume"),
            ),
            changes,
        )
