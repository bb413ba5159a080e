"""Reading the logbook: filters, text search, pages forwards and backwards, dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, func, select, text
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_read_logbook, logbook_event_filter
from fairbeam.catalogue.bulk import dialect_name
from fairbeam.catalogue.models import Investigation
from fairbeam.catalogue.search import words_of
from fairbeam.errors import InvalidInput
from fairbeam.logbook.logbooks import Target, events_out, find_logbook, resolve_target
from fairbeam.logbook.models import Category, EventType, Logbook, LogbookEvent, LogbookTag
from fairbeam.logbook.schemas import EventPage
from fairbeam.pagination import BAD_CURSOR, decode_cursor, encode_cursor


@dataclass
class EventFilters:
    """The filters of the event list."""

    investigation: str | None = None
    instrument: str | None = None
    dataset: int | None = None
    type: str | None = None
    category: str | None = None
    tag: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _choice(name: str, value: str | None, allowed: type[EventType] | type[Category]) -> None:
    if value is not None and value not in allowed.__members__:
        raise InvalidInput(f"{name} {value!r} is not known; use one of {', '.join(allowed)}")


def text_clause(session: Session, query: str, logbook_id: int | None) -> Any:
    """Events whose text holds every word of ``query`` (as prefixes); None for no words."""
    words = words_of(query)
    if not words:
        return None
    if dialect_name(session) == "postgresql":
        return text(
            "logbook_event.search_vector @@ to_tsquery('simple'::regconfig, :fb_lb_query)"
        ).bindparams(fb_lb_query=" & ".join(f"{w}:*" for w in words))
    match = " AND ".join(f'search_text:"{w}"*' for w in words)
    if logbook_id is not None:
        # The logbook is a column of the index, so only its matches are walked.
        match += f' AND scope:"lb{logbook_id}"'
    return LogbookEvent.id.in_(
        text("SELECT rowid FROM logbook_event_fts WHERE logbook_event_fts MATCH :fb_lb_match")
        .bindparams(fb_lb_match=match)
        .columns(rowid=Integer)
    )


def _conditions(
    session: Session, principal: Principal, filters: EventFilters
) -> tuple[list[Any], Target | None] | None:
    """The WHERE clauses, and the one logbook they name; None for an empty logbook."""
    _choice("type", filters.type, EventType)
    _choice("category", filters.category, Category)
    clauses: list[Any] = [LogbookEvent.deleted.is_(False)]
    logbook_id = None
    target = None
    if filters.investigation is not None or filters.instrument is not None:
        target = resolve_target(session, filters.investigation, filters.instrument)
        check_read_logbook(principal, target.investigation, target.instrument_id, target.what)
        if filters.q:
            # SQLite's text index is searched by logbook id, so look it up first.
            logbook_id = find_logbook(session, target)
            if logbook_id is None:
                return None
            clauses.append(LogbookEvent.logbook_id == logbook_id)
        else:
            # A subquery rather than a round trip; the index on (logbook, sequence)
            # still serves the page.
            row = select(Logbook.id).where(Logbook.key == target.key).scalar_subquery()
            clauses.append(LogbookEvent.logbook_id == row)
    else:
        clauses.append(
            logbook_event_filter(
                principal, LogbookEvent.investigation_id, LogbookEvent.instrument_id
            )
        )
    if filters.dataset is not None:
        clauses.append(LogbookEvent.dataset_id == filters.dataset)
    if filters.type is not None:
        clauses.append(LogbookEvent.type == filters.type)
    if filters.category is not None:
        clauses.append(LogbookEvent.category == filters.category)
    if filters.tag is not None:
        tagged = select(LogbookTag.event_id).where(LogbookTag.tag == filters.tag.strip())
        clauses.append(LogbookEvent.id.in_(tagged))
    if filters.since is not None:
        clauses.append(LogbookEvent.created >= filters.since)
    if filters.until is not None:
        clauses.append(LogbookEvent.created < filters.until)
    if filters.q:
        found = text_clause(session, filters.q, logbook_id)
        if found is not None:
            clauses.append(found)
    return clauses, target


def _base(clauses: list[Any], one_logbook: bool) -> Select[Any]:
    query = select(LogbookEvent)
    if not one_logbook:
        query = query.outerjoin(Investigation, Investigation.id == LogbookEvent.investigation_id)
    return query.where(*clauses)


def _walk(
    session: Session,
    query: Select[Any],
    key: Any,
    descending: bool,
    start: Any,
    limit: int,
    inclusive: bool = False,
) -> tuple[list[LogbookEvent], bool]:
    """Up to ``limit`` events after ``start`` in one direction, and whether more follow."""
    if start is not None:
        if descending:
            bound: ColumnElement[bool] = key <= start if inclusive else key < start
        else:
            bound = key >= start if inclusive else key > start
        query = query.where(bound)
    order = key.desc() if descending else key.asc()
    rows = list(session.scalars(query.order_by(order).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def list_events(
    session: Session,
    principal: Principal,
    filters: EventFilters,
    limit: int,
    cursor: str | None,
    around: datetime | None = None,
    order: str = "desc",
) -> EventPage:
    """A page of events in ``order`` (newest first by default), from a cursor or around a
    date; ``next`` continues in that order, ``previous`` goes back."""
    if order not in ("asc", "desc"):
        raise InvalidInput(f"order {order!r} is not known; use asc or desc")
    if cursor is not None and around is not None:
        raise InvalidInput("give either cursor or around, not both")
    found = _conditions(session, principal, filters)
    if found is None:
        return EventPage(items=[])
    clauses, target = found
    one_logbook = target is not None
    # One logbook's events all name its beamline, so no need to look names up.
    names = None if target is None else {target.instrument_id: target.instrument_name}
    query = _base(clauses, one_logbook)
    # One logbook pages by its sequence numbers; several by id, which follows them.
    key = LogbookEvent.sequence if one_logbook else LogbookEvent.id
    name = "sequence" if one_logbook else "id"
    descending = order == "desc"
    if around is not None:
        return _around(session, query, key, name, descending, around, limit, names)
    direction, start = _read_cursor(cursor)
    backwards = direction == "p"
    rows, more = _walk(session, query, key, descending != backwards, start, limit)
    if backwards:
        rows.reverse()
    items = events_out(session, rows, names)
    if not rows:
        return EventPage(items=items)
    first, last = getattr(rows[0], name), getattr(rows[-1], name)
    ahead = more if not backwards else True
    behind = more if backwards else start is not None
    return EventPage(
        items=items,
        next=encode_cursor(["n", last]) if ahead else None,
        previous=encode_cursor(["p", first]) if behind else None,
    )


def _read_cursor(cursor: str | None) -> tuple[str, int | None]:
    if cursor is None:
        return "n", None
    direction, start = decode_cursor(cursor, 2)
    if direction not in ("n", "p") or not isinstance(start, int) or isinstance(start, bool):
        raise InvalidInput(BAD_CURSOR)
    return direction, start


def _around(
    session: Session,
    query: Select[Any],
    key: Any,
    name: str,
    descending: bool,
    moment: datetime,
    limit: int,
    names: dict[int, str] | None,
) -> EventPage:
    """The page around the first event at or after ``moment`` (the last one when none is)."""
    # The anchor is a subquery of both walks rather than a round trip of its own.
    first_after = (
        query.with_only_columns(key)
        .where(LogbookEvent.created >= moment)
        .order_by(LogbookEvent.created, key)
        .limit(1)
    )
    last = query.with_only_columns(key).order_by(key.desc()).limit(1)
    anchor = func.coalesce(
        first_after.correlate(None).scalar_subquery(), last.correlate(None).scalar_subquery()
    )
    before, more_before = _walk(session, query, key, not descending, anchor, limit // 2)
    before.reverse()
    after, more_after = _walk(
        session, query, key, descending, anchor, limit - len(before), inclusive=True
    )
    rows = before + after
    if not rows:
        return EventPage(items=[])
    return EventPage(
        items=events_out(session, rows, names),
        next=encode_cursor(["n", getattr(rows[-1], name)]) if more_after else None,
        previous=encode_cursor(["p", getattr(rows[0], name)]) if more_before else None,
    )
