"""Notifications fairbeam itself posts: each newly registered dataset, in its
investigation's logbook."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import SYSTEM
from fairbeam.catalogue.models import Dataset
from fairbeam.events import DatasetRegistered
from fairbeam.logbook.models import Category, ContentFormat, EventType
from fairbeam.logbook.schemas import EventIn
from fairbeam.logbook.service import post_with_retry

log = logging.getLogger("fairbeam.logbook")


def dataset_notification(session: Session, payload: DatasetRegistered) -> EventIn | None:
    """The notification of a newly registered dataset (none for a registration again)."""
    if not payload.created:
        return None
    row = session.execute(
        select(Dataset.name, Dataset.technique, Dataset.file_count, Dataset.type).where(
            Dataset.id == payload.dataset_id
        )
    ).first()
    if row is None:
        return None
    name, technique, files, kind = row
    how = "harvested" if payload.source == "harvest" else "registered"
    by = f" by {payload.actor}" if payload.actor and payload.source != "harvest" else ""
    words = f"{kind} dataset {name}" + (f" ({technique})" if technique else "")
    return EventIn(
        investigation=str(payload.investigation_id),
        type=EventType.notification,
        category=Category.info,
        format=ContentFormat.text,
        content=f"New {words} {how}{by}: {files} files in {payload.location}",
        dataset=payload.dataset_id,
        tags=["dataset"],
        software=None,
        idempotency_key=f"dataset-registered:{payload.dataset_id}",
    )


def dataset_registered_handler(
    make_session: Callable[[], Session],
) -> Callable[[DatasetRegistered], None]:
    """A subscriber posting each new dataset to its investigation's logbook."""

    def handle(payload: DatasetRegistered) -> None:
        with make_session() as session:
            event = dataset_notification(session, payload)
            if event is not None:
                post_with_retry(session, SYSTEM, [event])

    return handle
