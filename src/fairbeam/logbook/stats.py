"""How the logbook is used: events per day and the largest logbooks of a period, read
from the per-day counts that writers keep."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, logbook_stats_filter
from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.db.base import utcnow
from fairbeam.errors import InvalidInput
from fairbeam.logbook.models import Logbook, LogbookDay
from fairbeam.logbook.schemas import DayCount, LogbookCount, LogbookStats

PERIODS = {"7d": 7, "30d": 30, "365d": 365, "all": None}


def logbook_stats(
    session: Session,
    principal: Principal,
    since: str = "30d",
    investigation: int | None = None,
    largest: int = 20,
) -> LogbookStats:
    """Events, annotations and notifications of the period, per day and per logbook."""
    visible = logbook_stats_filter(principal, Logbook.instrument_id)
    if since not in PERIODS:
        raise InvalidInput(f"since {since!r} is not known; use one of {', '.join(PERIODS)}")
    days = PERIODS[since]
    clauses = [visible]
    if days is not None:
        clauses.append(LogbookDay.day >= (utcnow() - timedelta(days=days - 1)).date())
    if investigation is not None:
        clauses.append(Logbook.investigation_id == investigation)
    joined = select().select_from(LogbookDay).join(Logbook, Logbook.id == LogbookDay.logbook_id)
    per_day = session.execute(
        joined.add_columns(
            LogbookDay.day,
            func.sum(LogbookDay.annotations),
            func.sum(LogbookDay.notifications),
        )
        .where(*clauses)
        .group_by(LogbookDay.day)
        .order_by(LogbookDay.day)
    ).all()
    annotations = func.sum(LogbookDay.annotations)
    notifications = func.sum(LogbookDay.notifications)
    top = session.execute(
        joined.add_columns(
            Logbook.key,
            Logbook.investigation_id,
            Investigation.code,
            Instrument.name,
            annotations,
            notifications,
        )
        .outerjoin(Investigation, Investigation.id == Logbook.investigation_id)
        .join(Instrument, Instrument.id == Logbook.instrument_id)
        .where(*clauses)
        .group_by(Logbook.key, Logbook.investigation_id, Investigation.code, Instrument.name)
        .order_by((annotations + notifications).desc(), Logbook.key)
        .limit(largest)
    ).all()
    logbooks = session.scalar(
        select(func.count(func.distinct(LogbookDay.logbook_id)))
        .select_from(LogbookDay)
        .join(Logbook, Logbook.id == LogbookDay.logbook_id)
        .where(*clauses)
    )
    total_a = sum(int(row[1] or 0) for row in per_day)
    total_n = sum(int(row[2] or 0) for row in per_day)
    return LogbookStats(
        since=since,
        events=total_a + total_n,
        annotations=total_a,
        notifications=total_n,
        logbooks=logbooks or 0,
        days=[
            DayCount(day=day.isoformat(), annotations=int(a or 0), notifications=int(n or 0))
            for day, a, n in per_day
        ],
        largest=[
            LogbookCount(
                logbook=key,
                investigation=inv,
                code=code,
                instrument=name,
                events=int(a or 0) + int(n or 0),
                annotations=int(a or 0),
                notifications=int(n or 0),
            )
            for key, inv, code, name, a, n in top
        ],
    )
