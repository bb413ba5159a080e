"""Facet counts (beamline, technique, year, raw/processed) that stay fast at a million
datasets: without a text, date, sample or parameter filter they read the small
summary table; otherwise one GROUP BY over the matching datasets."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, data_filter, dataset_filter
from fairbeam.catalogue.conditions import condition_clause
from fairbeam.catalogue.datasets import DatasetFilters, split_dataset_clauses
from fairbeam.catalogue.models import Dataset, DatasetSummary, Instrument, Investigation
from fairbeam.catalogue.schemas import FacetCount, Facets, row_id
from fairbeam.catalogue.search import year_of
from fairbeam.catalogue.service import get_instrument


def _summary_answers(filters: DatasetFilters) -> bool:
    return not (
        filters.q or filters.param or filters.sample or filters.start_after or filters.start_before
    )


def _from_summary(session: Session, principal: Principal, filters: DatasetFilters) -> list[Any]:
    s = DatasetSummary
    query = (
        select(s.instrument_id, s.technique, s.year, s.type, func.sum(s.datasets))
        .join(Investigation, Investigation.id == s.investigation_id)
        .where(data_filter(principal, s.instrument_id, s.investigation_id), s.datasets > 0)
        .group_by(s.instrument_id, s.technique, s.year, s.type)
    )
    if filters.investigation:
        ref = filters.investigation
        query = query.where(
            s.investigation_id == row_id(ref)
            if row_id(ref) is not None
            else s.investigation_id.in_(select(Investigation.id).where(Investigation.code == ref))
        )
    if filters.instrument:
        query = query.where(s.instrument_id == get_instrument(session, filters.instrument).id)
    if filters.technique:
        query = query.where(s.technique == filters.technique)
    if filters.type:
        query = query.where(s.type == filters.type)
    return list(session.execute(query))


def _from_datasets(session: Session, principal: Principal, filters: DatasetFilters) -> list[Any]:
    d = Dataset
    year = year_of(session, d.start)
    parts = split_dataset_clauses(session, principal, filters)
    # The access rules look releases up by investigation id rather than joining every
    # investigation: the planner hashed the whole table for each count.
    access = (
        parts.access if not parts.joins_investigation else dataset_filter(principal, joined=False)
    )
    narrowed = parts.text is not None
    conditions = [condition_clause(c, t, narrowed) for c, t in parts.conditions]
    text = [] if parts.text is None else [parts.text]
    query = (
        select(d.instrument_id, d.technique, year, d.type, func.count())
        .where(access, *parts.plain, *text, *conditions)
        .group_by(d.instrument_id, d.technique, year, d.type)
    )
    return [
        (instrument, technique, year_value, getattr(kind, "value", kind), count)
        for instrument, technique, year_value, kind, count in session.execute(query)
    ]


def _counts(counter: Counter[str], numeric: bool = False) -> list[FacetCount]:
    items = counter.items()
    ordered = (
        sorted(items, key=lambda kv: kv[0], reverse=True)
        if numeric
        else sorted(items, key=lambda kv: (-kv[1], kv[0]))
    )
    return [FacetCount(value=value, count=count) for value, count in ordered]


def dataset_facets(session: Session, principal: Principal, filters: DatasetFilters) -> Facets:
    """Counts of the datasets the caller may see, by beamline, technique, year and type."""
    rows = (
        _from_summary(session, principal, filters)
        if _summary_answers(filters)
        else _from_datasets(session, principal, filters)
    )
    names = dict(session.execute(select(Instrument.id, Instrument.name)).all())
    instruments: Counter[str] = Counter()
    techniques: Counter[str] = Counter()
    years: Counter[str] = Counter()
    types: Counter[str] = Counter()
    total = 0
    for instrument_id, technique, year, kind, count in rows:
        count = int(count)
        instruments[names.get(instrument_id, str(instrument_id))] += count
        techniques[technique or "unknown"] += count
        years[str(year)] += count
        types[str(kind)] += count
        total += count
    return Facets(
        instrument=_counts(instruments),
        technique=_counts(techniques),
        year=_counts(years, numeric=True),
        type=_counts(types),
        total=total,
    )
