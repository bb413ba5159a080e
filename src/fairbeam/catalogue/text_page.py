"""A dataset page for a text search: the text matches the caller may see, in sort
order, then their parameter conditions, checked in that order until the page is full.

Sorted by start on PostgreSQL, the matches come in windows of time. investigation_word
names the investigations whose datasets hold the words, and from when to when; read
newest (or oldest) first and only for investigations the caller may see, they tell
which investigations can reach into the next window, and each window reads only their
matches. Embargoed years cost a user one lookup per investigation, and a word found in
a tenth of the catalogue is not read whole to find its fifty newest datasets.
Otherwise the text index gives every match and the database sorts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, data_filter, dataset_filter
from fairbeam.catalogue.bulk import dialect_name
from fairbeam.catalogue.conditions import Condition, condition_clause
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.catalogue.search import WordSpan, dataset_text_clause, spanned_words, word_spans
from fairbeam.db.base import as_utc
from fairbeam.pagination import after

if TYPE_CHECKING:
    from fairbeam.catalogue.datasets import DatasetClauses

# Datasets of the investigations reaching into the first window; each next window
# takes in as many more as the share of them that made the page says the page still
# needs, at most eight times as many as the last.
FIRST_WINDOW = 1000
WINDOW_GROWTH = 8
# Candidates whose conditions are checked in one query, at most.
MAX_CHECK = 1000

Conditions = list[tuple[Condition, int | None]]


def text_page_ids(
    session: Session,
    principal: Principal,
    parts: DatasetClauses,
    names: tuple[str, ...],
    descending: bool,
    cursor: Sequence[Any] | None,
    limit: int,
) -> list[int]:
    """The ids of a text search's page in sort order, ``limit + 1`` when more follow."""
    assert parts.query is not None
    if any(type_id is None for _, type_id in parts.conditions):
        return []  # a parameter no dataset has
    assert parts.text is not None
    columns = [getattr(Dataset, name) for name in names]
    order = [c.desc() if descending else c.asc() for c in columns]
    # Built first, so a cursor of the wrong shape is refused even when nothing matches.
    matches = select(Dataset.id).where(*parts.plain)
    if cursor:
        matches = matches.where(after(columns, cursor, descending))
    page = Page(session, parts.conditions, limit + 1)
    words = spanned_words(session, parts.query)
    if names[0] == "start" and words:
        # A window's text is checked on the rows of its investigations.
        matches = matches.where(dataset_text_clause(session, parts.query, by_index=False))
        bound = as_utc(cursor[0]).replace(tzinfo=None) if cursor else None
        spans = word_spans(session, words, _visible(principal, parts), descending, bound)
        for window in _windows(spans, descending, page):
            query = window.matches(session, matches, parts).order_by(*order)
            if page.add_checked(_passing_in_order(session, query, page)):
                break
        return page.ids
    matches = matches.where(parts.text)
    if parts.joins_investigation:
        # Releases looked up by investigation id: no join with every investigation.
        matches = matches.where(dataset_filter(principal, joined=False))
    matches = matches.order_by(*order)
    if not page.conditions:
        matches = matches.limit(page.wanted)
    page.add(rows_of(session, matches.execution_options(yield_per=MAX_CHECK)))
    return page.ids


def _visible(principal: Principal, parts: DatasetClauses) -> ColumnElement[bool] | None:
    """Investigations whose datasets the caller may see, or None for no limit. Staff
    may see single datasets of any investigation (those on their beamlines), so every
    investigation stays a candidate for them."""
    if not parts.joins_investigation or principal.instrument_ids:
        return None
    return data_filter(principal)


@dataclass(frozen=True)
class Window:
    """Datasets of ``investigations`` whose start is from ``begin`` (included) to
    ``end`` (excluded) in the page's order; None for no limit."""

    investigations: list[int]
    begin: datetime | None
    end: datetime | None
    descending: bool

    def matches(self, session: Session, matches: Select[Any], parts: DatasetClauses) -> Select[Any]:
        """``matches`` narrowed to the window, with the access rules."""
        query = matches.where(one_of(session, Dataset.investigation_id, self.investigations))
        if parts.joins_investigation:
            # The access rules read the window's few investigations by primary key.
            query = query.join(Investigation, Investigation.id == Dataset.investigation_id)
            query = query.where(one_of(session, Investigation.id, self.investigations))
            query = query.where(parts.access)
        begin, end = self.begin, self.end
        if begin is not None:
            query = query.where(
                Dataset.start <= begin if self.descending else Dataset.start >= begin
            )
        if end is not None:
            query = query.where(Dataset.start > end if self.descending else Dataset.start < end)
        return query


def _windows(spans: Iterator[WordSpan], descending: bool, page: Page) -> Iterator[Window]:
    """Windows one after the other in the page's order, each holding every match of its
    time range: the datasets of investigations whose edge comes later start later."""
    investigations: list[int] = []
    target, begin = FIRST_WINDOW, None
    span = next(spans, None)
    while span is not None:
        datasets = 0
        while span is not None and datasets < target:
            investigations.append(span.investigation_id)
            datasets += span.datasets
            span = next(spans, None)
        end = None if span is None else span.edge
        found = len(page.ids)
        yield Window(list(investigations), begin, end, descending)
        share = (len(page.ids) - found) / max(datasets, 1)
        needed = page.missing / share * 1.25 if share else float("inf")
        begin, target = end, max(FIRST_WINDOW, round(min(target * WINDOW_GROWTH, needed)))


def _passing_in_order(session: Session, query: Select[Any], page: Page) -> list[int]:
    """The sorted matches of ``query`` that pass the conditions, as many as the page
    misses: the conditions are checked in order and stop with it."""
    if page.conditions:
        # OFFSET 0 keeps the sorted matches a unit the checks do not reorder.
        found = query.offset(literal_column("0")).subquery("matches")
        checks = [condition_clause(c, t, True, found.c.id) for c, t in page.conditions]
        query = select(found.c.id).where(*checks)
    return list(rows_of(session, query.limit(page.missing)))


class Page:
    """The page being filled: candidates in sort order go in, those passing the
    parameter conditions stay, until it holds ``wanted``."""

    def __init__(self, session: Session, conditions: Conditions, wanted: int) -> None:
        self.session = session
        self.conditions = conditions
        self.wanted = wanted
        self.ids: list[int] = []
        self.checked = 0
        # Built once: every chunk checks the same clauses.
        self.checks = [condition_clause(c, type_id, True) for c, type_id in conditions]

    @property
    def missing(self) -> int:
        """How many more the page needs."""
        return self.wanted - len(self.ids)

    def add_checked(self, ids: list[int]) -> bool:
        """Add ids already known to pass; True once the page is full."""
        self.ids += ids[: self.missing]
        return self.missing == 0

    def add(self, candidates: Iterator[int]) -> bool:
        """Add the candidates that pass, in order, a chunk at a time; True once full."""
        while self.missing > 0:
            chunk = list(islice(candidates, self._chunk_size()))
            if not chunk:
                return False
            self.add_checked(self._passing(chunk))
        return True

    def _chunk_size(self) -> int:
        if not self.conditions:
            return self.missing
        # Enough candidates to fill the page at the share that passed so far.
        share = max(len(self.ids), 1) / self.checked if self.checked else 0.5
        return min(MAX_CHECK, max(self.wanted, round(self.missing / share * 1.2)))

    def _passing(self, chunk: list[int]) -> list[int]:
        self.checked += len(chunk)
        if not self.conditions:
            return chunk
        query = select(Dataset.id).where(one_of(self.session, Dataset.id, chunk), *self.checks)
        passed = set(rows_of(self.session, query))
        return [i for i in chunk if i in passed]


def one_of(session: Session, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids`` with the ids as one parameter: an array on PostgreSQL, a JSON
    list on SQLite (a parameter per id costs more to build and bind than the query)."""
    if dialect_name(session) == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))  # type: ignore[no-any-return]
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(ids), type_=String))
    )
    return column.in_(listed)  # type: ignore[no-any-return]


def rows_of(session: Session, query: Select[Any]) -> Iterator[int]:
    """The ids ``query`` answers, read without the ORM's row processing (plain ids)."""
    return iter(session.connection().execute(query).scalars())
