"""Telling the rest of the server that datasets were registered."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Dataset
from fairbeam.catalogue.schemas import Registered
from fairbeam.events import DATASET_REGISTERED, DatasetRegistered, EventBus


def announce_registered(
    session: Session,
    events: EventBus | None,
    results: Sequence[Registered],
    source: str,
    actor: str | None,
) -> None:
    """Publish a "dataset registered" event for each result, as one batch (call after
    the commit)."""
    if events is None or not results:
        return
    created = {r.id: r.created for r in results}
    rows = session.execute(
        select(Dataset.id, Dataset.investigation_id, Dataset.instrument_id, Dataset.location)
        .where(Dataset.id.in_(sorted(created)))
        .order_by(Dataset.id)
    ).all()
    events.publish_batch(
        DATASET_REGISTERED,
        [
            DatasetRegistered(
                dataset_id=dataset_id,
                investigation_id=investigation_id,
                instrument_id=instrument_id,
                location=location,
                created=created[dataset_id],
                source=source,
                actor=actor,
            )
            for dataset_id, investigation_id, instrument_id, location in rows
        ],
    )
