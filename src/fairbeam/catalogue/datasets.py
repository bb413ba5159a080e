"""Datasets and their files: lists with filters, pages and provenance, always through
the access rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from fairbeam.access.policy import (
    Principal,
    check_data,
    data_filter,
    dataset_filter,
    sees_whole_beamlines,
)
from fairbeam.catalogue.conditions import (
    Condition,
    condition_clause,
    parameter_type_ids,
    parse_condition,
)
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetInput,
    DatasetParameter,
    Instrument,
    Investigation,
    ParameterType,
    Sample,
)
from fairbeam.catalogue.schemas import (
    DatafileOut,
    DatasetOut,
    Moment,
    Page,
    ParameterOut,
    SampleOut,
    row_id,
)
from fairbeam.catalogue.search import dataset_text_clause
from fairbeam.catalogue.service import get_instrument, get_investigation, paginate, sort_key
from fairbeam.catalogue.text_page import text_page_ids
from fairbeam.db.base import as_utc
from fairbeam.errors import InvalidInput, NotFound
from fairbeam.pagination import after, decode_cursor, encode_cursor

DATASET_SORTS = {
    "-start": (("start", "id"), True),
    "start": (("start", "id"), False),
    "name": (("name", "id"), False),
    "-name": (("name", "id"), True),
    "-created": (("created", "id"), True),
}


@dataclass
class DatasetFilters:
    """Filters of the dataset list and of its facet counts."""

    investigation: str | None = None
    instrument: str | None = None
    sample: str | None = None
    technique: str | None = None
    type: str | None = None
    q: str | None = None
    start_after: Moment | None = None
    start_before: Moment | None = None
    param: list[str] = field(default_factory=list)


@dataclass
class DatasetClauses:
    """The WHERE clauses of a dataset query, by kind, so a text search can apply them
    in the order that is cheapest."""

    access: ColumnElement[bool]
    plain: list[ColumnElement[bool]]
    text: ColumnElement[bool] | None
    conditions: list[tuple[Condition, int | None]]
    query: str | None = None  # the searched text, when it has words

    @property
    def joins_investigation(self) -> bool:
        """True when the access clause reads the joined investigation."""
        return self.access is not true_clause


true_clause = true()


def split_dataset_clauses(
    session: Session, principal: Principal, filters: DatasetFilters
) -> DatasetClauses:
    """The access rules and the filters as separate clauses (the access clause needs
    Investigation joined, unless the caller sees the whole of what is filtered)."""
    plain: list[ColumnElement[bool]] = []
    beamlines: set[int] = set()
    if filters.investigation:
        ref = filters.investigation
        if row_id(ref) is not None:
            plain.append(Dataset.investigation_id == row_id(ref))
        else:
            plain.append(
                Dataset.investigation_id.in_(
                    select(Investigation.id).where(Investigation.code == ref)
                )
            )
    if filters.instrument:
        instrument_id = get_instrument(session, filters.instrument).id
        beamlines.add(instrument_id)
        plain.append(Dataset.instrument_id == instrument_id)
    if filters.sample:
        if row_id(filters.sample) is not None:
            plain.append(Dataset.sample_id == row_id(filters.sample))
        else:
            plain.append(
                Dataset.sample_id.in_(select(Sample.id).where(Sample.name == filters.sample))
            )
    if filters.technique:
        plain.append(Dataset.technique == filters.technique)
    if filters.type:
        if filters.type not in ("raw", "processed"):
            raise InvalidInput(f"type {filters.type!r} is not known; use raw or processed")
        plain.append(Dataset.type == filters.type)
    if filters.start_after:
        plain.append(Dataset.start >= as_utc(filters.start_after))
    if filters.start_before:
        plain.append(Dataset.start < as_utc(filters.start_before))
    text_clause = dataset_text_clause(session, filters.q) if filters.q else None
    conditions = [parse_condition(raw) for raw in filters.param]
    type_ids = parameter_type_ids(session, [c.name for c in conditions])
    # Staff looking at their own beamline see all of it: no per-row check, no join.
    whole = sees_whole_beamlines(principal, beamlines)
    return DatasetClauses(
        access=true_clause if whole else dataset_filter(principal),
        plain=plain,
        text=text_clause,
        conditions=[(c, type_ids.get(c.name)) for c in conditions],
        query=filters.q if text_clause is not None else None,
    )


def list_datasets(
    session: Session,
    principal: Principal,
    filters: DatasetFilters,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[DatasetOut]:
    """The datasets the caller may see that match the filters."""
    names, descending = sort_key(DATASET_SORTS, sort)
    columns = [getattr(Dataset, name) for name in names]
    order = [c.desc() if descending else c.asc() for c in columns]
    parts = split_dataset_clauses(session, principal, filters)
    page_ids: Select[Any] | list[int]
    if parts.text is not None:
        cursor_values = decode_cursor(cursor, len(columns)) if cursor else None
        page_ids = text_page_ids(session, principal, parts, names, descending, cursor_values, limit)
    else:
        # The page's ids are found first, which the (start, id, investigation,
        # instrument) index answers alone however many datasets the access rules skip;
        # only the page's rows are read, and their investigations and samples after
        # the LIMIT.
        page_ids = select(Dataset.id).where(
            parts.access,
            *parts.plain,
            *[condition_clause(c, t) for c, t in parts.conditions],
        )
        if parts.joins_investigation:
            page_ids = page_ids.join(Investigation, Investigation.id == Dataset.investigation_id)
        if cursor:
            page_ids = page_ids.where(
                after(columns, decode_cursor(cursor, len(columns)), descending)
            )
        if names[0] == "start" and descending and not principal.is_manager:
            newest = newest_visible_start(session, principal)
            if newest is None:
                return Page(items=[], next=None)
            page_ids = page_ids.where(Dataset.start <= newest)
        page_ids = page_ids.order_by(*order).limit(limit + 1)
    query = (
        select(Dataset)
        .options(selectinload(Dataset.investigation), selectinload(Dataset.sample))
        .where(Dataset.id.in_(page_ids))
        .order_by(*order)
    )
    rows = list(session.scalars(query))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([getattr(rows[-1], name) for name in names])
    return Page(items=datasets_out(session, rows), next=next_cursor)


def newest_visible_start(session: Session, principal: Principal) -> datetime | None:
    """No dataset the caller may see starts later (None: they may see none). Read from
    the investigations, so that a list sorted newest first skips the embargoed datasets
    above it without reading them."""
    return session.scalar(
        select(func.max(Investigation.newest_dataset_start)).where(data_filter(principal))
    )


def datasets_out(session: Session, datasets: list[Dataset]) -> list[DatasetOut]:
    """API views of datasets, their parameters and provenance read in three queries."""
    ids = [d.id for d in datasets]
    params: dict[int, dict[str, ParameterOut]] = {i: {} for i in ids}
    inputs: dict[int, list[int]] = {i: [] for i in ids}
    outputs: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        # Plain rows, through the connection: the ORM's result processing cost more
        # than the queries (600 parameter rows a page).
        connection = session.connection()
        rows = connection.execute(
            select(
                DatasetParameter.dataset_id,
                ParameterType.name,
                DatasetParameter.value,
                DatasetParameter.unit,
            )
            .join(ParameterType, ParameterType.id == DatasetParameter.type_id)
            .where(DatasetParameter.dataset_id.in_(ids))
            .order_by(DatasetParameter.dataset_id, ParameterType.name)
        )
        for dataset_id, name, value, unit in rows:
            params[dataset_id][name] = ParameterOut(value=value, unit=unit)
        links = connection.execute(
            select(DatasetInput.dataset_id, DatasetInput.input_id).where(
                or_(DatasetInput.dataset_id.in_(ids), DatasetInput.input_id.in_(ids))
            )
        )
        for dataset_id, input_id in links:
            if dataset_id in inputs:
                inputs[dataset_id].append(input_id)
            if input_id in outputs:
                outputs[input_id].append(dataset_id)
    return [
        DatasetOut(
            id=d.id,
            investigation=d.investigation.code,
            investigation_id=d.investigation_id,
            instrument=d.investigation.instrument.name
            if d.instrument_id == d.investigation.instrument_id
            else _instrument_name(session, d.instrument_id),
            name=d.name,
            location=d.location,
            type=d.type,
            technique=d.technique,
            start=d.start,
            end=d.end,
            sample=SampleOut(
                id=d.sample.id, name=d.sample.name, chemical_formula=d.sample.chemical_formula
            )
            if d.sample
            else None,
            parameters=params[d.id],
            file_count=d.file_count,
            volume_bytes=d.volume_bytes,
            inputs=sorted(inputs[d.id]),
            outputs=sorted(outputs[d.id]),
            created=d.created,
            storage_state=d.storage_state,
        )
        for d in datasets
    ]


def _instrument_name(session: Session, instrument_id: int) -> str:
    return session.scalar(select(Instrument.name).where(Instrument.id == instrument_id)) or ""


def get_dataset(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """One dataset, or 404 when it does not exist or the caller may not see it."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    investigation = get_investigation(session, dataset.investigation_id)
    if dataset.instrument_id in principal.instrument_ids:
        return dataset
    check_data(principal, investigation, f"dataset {dataset_id}")
    return dataset


def list_files(
    session: Session, principal: Principal, dataset_id: int, limit: int, cursor: str | None
) -> Page[DatafileOut]:
    """A dataset's files by path, a page at a time (a dataset may hold 200,000)."""
    get_dataset(session, principal, dataset_id)
    # A path is unique within its dataset, so it alone orders the pages.
    query = select(Datafile).where(Datafile.dataset_id == dataset_id)
    rows, next_cursor = paginate(session, query, Datafile, (("path",), False), limit, cursor)
    return Page(
        items=[
            DatafileOut(
                id=f.id,
                dataset=f.dataset_id,
                path=f.path,
                size=f.size,
                checksum=f.checksum,
                tier=f.tier,
            )
            for f in rows
        ],
        next=next_cursor,
    )


def get_file(session: Session, principal: Principal, file_id: int) -> Datafile:
    """One datafile, through its dataset's access rules."""
    return locate_file(session, principal, file_id)[0]


def locate_file(session: Session, principal: Principal, file_id: int) -> tuple[Datafile, str]:
    """A datafile and its dataset's location, through the access rules, in one query
    (the viewer asks for a file on every request)."""
    row = session.execute(
        select(Datafile, Dataset.location)
        .join(Dataset, Dataset.id == Datafile.dataset_id)
        .join(Investigation, Investigation.id == Dataset.investigation_id)
        .where(Datafile.id == file_id, dataset_filter(principal))
    ).first()
    if row is None:
        raise NotFound(f"file {file_id} not found")
    return row[0], row[1]
