"""Release: investigations whose embargo has ended become open, their DOI findable.

The access rules already open data once its release date has passed; the release step
records when it happened (``investigation.released``), makes the DOI findable and
writes the audit record, one investigation per commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.audit.service import record
from fairbeam.catalogue.models import Investigation
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.policy.doi import make_findable

log = logging.getLogger("fairbeam.policy")
BATCH = 500


def pass_moment(as_of: date) -> datetime:
    """The instant a pass as of ``as_of`` stands for: now for today, else the end of that
    day (a release dated that day is due), as the DOI service reads a day."""
    now = utcnow()
    if as_of == now.date():
        return now
    return datetime.combine(as_of, time(0), UTC) + timedelta(days=1) - timedelta(microseconds=1)


def _due(moment: datetime) -> list[ColumnElement[bool]]:
    return [
        Investigation.released.is_(None),
        Investigation.release_date.is_not(None),
        Investigation.release_date <= moment,
    ]


def count_due_for_release(session: Session, as_of: date) -> int:
    """How many investigations the release step would release."""
    query = select(func.count()).select_from(Investigation).where(*_due(pass_moment(as_of)))
    return session.scalar(query) or 0


def due_for_release(session: Session, as_of: date, limit: int | None = None) -> list[int]:
    """Ids of investigations due for release, by release date (ix_investigation_release_date)."""
    query = (
        select(Investigation.id)
        .where(*_due(pass_moment(as_of)))
        .order_by(Investigation.release_date, Investigation.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


def _walk_due(session: Session, moment: datetime) -> Iterator[int]:
    """Ids due for release, a keyset batch at a time, so one that fails is not met again."""
    last: tuple[datetime | None, int] | None = None
    while True:
        query = select(Investigation.release_date, Investigation.id).where(*_due(moment))
        if last is not None:
            query = query.where(tuple_(Investigation.release_date, Investigation.id) > last)
        rows = session.execute(
            query.order_by(Investigation.release_date, Investigation.id).limit(BATCH)
        ).all()
        session.rollback()  # end the read transaction before the work of the batch
        if not rows:
            return
        for _, investigation_id in rows:
            yield investigation_id
        last = (rows[-1][0], rows[-1][1])


def release_investigation(
    session: Session, settings: Settings, investigation_id: int, moment: datetime
) -> bool:
    """Release one investigation (its DOI made findable, an audit record); False when it
    was released meanwhile. The caller commits."""
    # Lock the row (the instrument is joined on load, which FOR UPDATE cannot cover).
    session.execute(
        select(Investigation.id).where(Investigation.id == investigation_id).with_for_update()
    )
    investigation = session.get(Investigation, investigation_id)
    if investigation is None or investigation.released is not None:
        return False
    investigation.released = moment
    session.flush()
    doi = make_findable(session, settings, investigation)
    record(
        session,
        "release",
        "investigation",
        investigation.id,
        actor="policy",
        code=investigation.code,
        release_date=investigation.release_date.isoformat() if investigation.release_date else None,
        doi=doi.doi if doi is not None else investigation.doi,
    )
    return True


def release_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    as_of: date,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Release every investigation due by ``as_of``, committing each; counts."""
    moment = pass_moment(as_of)
    released = failed = 0
    with sessions() as session:
        for investigation_id in _walk_due(session, moment):
            try:
                if release_investigation(session, settings, investigation_id, moment):
                    released += 1
                session.commit()
            except Exception:
                session.rollback()
                failed += 1
                log.exception("release of investigation %s failed", investigation_id)
            if progress is not None:
                progress(released + failed)
    return {"released": released, "release_failed": failed}
