"""Notifications fairbeam itself posts: each newly registered dataset, in its
investigation's logbook."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.catalogue.models import Dataset
from fairbeam.events import DatasetRegistered
from fairbeam.logbook.models import Category, ContentFormat, EventType
from fairbeam.logbook.schemas import EventIn
from fairbeam.logbook.service import post_with_retry

log = logging.getLogger("fairbeam.logbook")

# Notifications written per transaction: a harvest's batch in a few round trips,
# without holding its logbooks' counters for long.
CHUNK = 1000


def dataset_notifications(session: Session, payloads: Sequence[DatasetRegistered]) -> list[EventIn]:
    """The notifications of newly registered datasets (none for a registration again)."""
    new = {p.dataset_id: p for p in payloads if p.created}
    if not new:
        return []
    ids = sorted(new)
    events = []
    for start in range(0, len(ids), CHUNK):
        wanted = ids[start : start + CHUNK]
        rows = session.execute(
            select(Dataset.id, Dataset.name, Dataset.technique, Dataset.file_count, Dataset.type)
            .where(Dataset.id.in_(wanted))
            .order_by(Dataset.id)
        ).all()
        for dataset_id, name, technique, files, kind in rows:
            payload = new[dataset_id]
            how = "harvested" if payload.source == "harvest" else "registered"
            by = f" by {payload.actor}" if payload.actor and payload.source != "harvest" else ""
            words = f"{kind} dataset {name}" + (f" ({technique})" if technique else "")
            events.append(
                EventIn(
                    investigation=str(payload.investigation_id),
                    type=EventType.notification,
                    category=Category.info,
                    format=ContentFormat.text,
                    content=f"New {words} {how}{by}: {files} files in {payload.location}",
                    dataset=dataset_id,
                    tags=["dataset"],
                    software=None,
                    idempotency_key=f"dataset-registered:{dataset_id}",
                )
            )
    return events


def dataset_registered_handler(
    make_session: Callable[[], Session],
) -> Callable[[list[DatasetRegistered]], None]:
    """A batch subscriber posting new datasets to their investigations' logbooks, a
    published batch in one transaction per chunk rather than one per dataset."""

    def handle(payloads: list[DatasetRegistered]) -> None:
        with make_session() as session:
            events = dataset_notifications(session, payloads)
            for start in range(0, len(events), CHUNK):
                post_with_retry(session, SYSTEM, events[start : start + CHUNK])

    return handle
