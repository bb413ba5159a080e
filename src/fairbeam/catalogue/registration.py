"""Registering datasets from control software and harvesters, one or thousands at once.

Every batch runs in the caller's transaction: it is written whole or not at all.
Registering the same investigation and location again updates that dataset
(new files and parameters are added, changed ones take their new values)
instead of making a second one.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_register, dataset_filter
from fairbeam.audit.service import record
from fairbeam.catalogue.bulk import (
    NULL,
    copy_field,
    copy_rows,
    copy_text,
    dialect_name,
    insert_with_new_ids,
    plain_copy_text,
    upsert_insert,
)
from fairbeam.catalogue.counters import Plan, apply_counts
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetInput,
    DatasetParameter,
    Investigation,
)
from fairbeam.catalogue.resolver import LOOKUP_CHUNK, Resolver
from fairbeam.catalogue.schemas import DatasetIn, ParameterIn, Registered, SampleIn
from fairbeam.catalogue.units import NormalisedValue, normalise
from fairbeam.db.base import as_utc, utcnow
from fairbeam.errors import InvalidInput

PARAMETER_COLUMNS = (
    "dataset_id",
    "type_id",
    "value",
    "unit",
    "value_text",
    "value_num",
    "si_value",
    "si_unit",
)
FILE_COLUMNS = ("dataset_id", "path", "size", "checksum", "tier")
DATASET_COLUMNS = (
    "investigation_id",
    "instrument_id",
    "sample_id",
    "name",
    "location",
    "type",
    "technique",
    "start",
    "end",
    "search_text",
    "file_count",
    "volume_bytes",
    "parameter_count",
    "created",
)
SEARCH_TEXT_LIMIT = 4000
_EXISTING_IDS = text(
    "SELECT d.id FROM dataset AS d JOIN unnest(CAST(:investigations AS integer[]), "
    "CAST(:locations AS text[])) AS k (investigation_id, location) "
    "ON d.investigation_id = k.investigation_id AND d.location = k.location"
)
# A new dataset's id, what was submitted, and its parameters normalised.
_Created = tuple[int, DatasetIn, dict[str, NormalisedValue]]


def _parameter(raw: ParameterIn | Any) -> tuple[Any, str | None]:
    if isinstance(raw, ParameterIn):
        return raw.value, raw.unit
    return raw, None


def _sample_of(item: DatasetIn) -> SampleIn | None:
    if item.sample is None:
        return None
    if isinstance(item.sample, str):
        return SampleIn(name=item.sample)
    return item.sample


def _search_text(item: DatasetIn, code: str, params: dict[str, NormalisedValue]) -> str:
    sample = _sample_of(item)
    words = [item.name, item.location, item.technique, code, item.type.value]
    if sample is not None:
        words += [sample.name, sample.chemical_formula or ""]
    for name, value in params.items():
        words.append(name)
        if value.value_num is None and value.value_text:
            words.append(value.value_text)
    return " ".join(word for word in words if word)[:SEARCH_TEXT_LIMIT]


def register_datasets(
    session: Session, principal: Principal, items: list[DatasetIn]
) -> list[Registered]:
    """Register or update datasets with their samples, parameters, files and inputs."""
    resolver = Resolver(session, principal)
    resolver.prefetch(items)
    now = utcnow()
    prepared = []
    for index, item in enumerate(items):
        start = as_utc(item.start) if item.start else now
        end = as_utc(item.end) if item.end else None
        if end is not None and end < start:
            raise InvalidInput(f"datasets[{index}]: end {end.isoformat()} is before start")
        investigation = resolver.investigation(item, start)
        instrument_id = (
            resolver.instrument(item.instrument).id
            if item.instrument
            else investigation.instrument_id
        )
        instrument_name = item.instrument or investigation.instrument.name
        check_register(principal, instrument_id, instrument_name)
        params = {name: normalise(*_parameter(raw)) for name, raw in item.parameters.items()}
        prepared.append((item, investigation, instrument_id, start, end, params))

    _check_inputs(session, principal, items)
    existing = _existing(session, [(inv.id, item.location) for item, inv, *_ in prepared])

    sample_details: dict[tuple[int, str], SampleIn] = {}
    first_units: dict[str, NormalisedValue] = {}
    for item, investigation, _, _, _, params in prepared:
        sample = _sample_of(item)
        if sample is not None:
            sample_details.setdefault((investigation.id, sample.name), sample)
        for name, value in params.items():
            first_units.setdefault(name, value)
    sample_ids = resolver.samples(set(sample_details), sample_details)
    type_ids = resolver.parameter_types(first_units)

    plan = Plan()
    new_rows: list[tuple[Any, ...]] = []
    new_items = []
    results: list[Registered | None] = []
    seen_in_batch: dict[tuple[int, str], int] = {}
    for item, investigation, instrument_id, start, end, params in prepared:
        key = (investigation.id, item.location)
        if key in seen_in_batch:
            raise InvalidInput(
                f"location {item.location!r} of investigation {item.investigation!r} "
                "appears twice in one batch"
            )
        seen_in_batch[key] = len(results)
        sample = _sample_of(item)
        sample_id = sample_ids[(investigation.id, sample.name)] if sample else None
        values = {
            "investigation_id": investigation.id,
            "instrument_id": instrument_id,
            "sample_id": sample_id,
            "name": item.name,
            "location": item.location,
            "type": item.type.value,
            "technique": item.technique,
            "start": start,
            "end": end,
            "search_text": _search_text(item, investigation.code, params),
        }
        if key in existing:
            dataset = existing[key]
            _update_dataset(session, principal, plan, dataset, values, item, params, type_ids)
            results.append(Registered(id=dataset.id, location=item.location, created=False))
        else:
            files = item.files
            volume = sum([f["size"] for f in files])
            values |= {
                "start": _naive(start),
                "end": _naive(end),
                "file_count": len(files),
                "volume_bytes": volume,
                "parameter_count": len(params),
                "created": _naive(now),
            }
            new_rows.append(tuple(values[c] for c in DATASET_COLUMNS))
            new_items.append((item, params))
            plan.count(
                (investigation.id, item.technique, start.year, start.month, item.type.value),
                instrument_id,
                1,
                len(files),
                volume,
                start,
            )
            results.append(None)

    if new_rows:
        datasets = cast(Table, Dataset.__table__)
        ids = insert_with_new_ids(
            session, datasets, DATASET_COLUMNS, new_rows, ("investigation_id", "location")
        )
        created = [(i, item, params) for i, (item, params) in zip(ids, new_items, strict=True)]
        _write_children(session, created, type_ids)
        new_ids = iter(ids)
        for i, result in enumerate(results):
            if result is None:
                results[i] = Registered(
                    id=next(new_ids), location=prepared[i][0].location, created=True
                )
    _link_inputs(
        session, [(r.id, item.inputs) for r, item in zip(results, items, strict=True) if r]
    )
    apply_counts(session, plan)
    return [r for r in results if r is not None]


def _check_inputs(session: Session, principal: Principal, items: list[DatasetIn]) -> None:
    wanted = sorted({i for item in items for i in item.inputs})
    if not wanted:
        return
    visible = set(
        session.scalars(
            select(Dataset.id)
            .join(Investigation, Investigation.id == Dataset.investigation_id)
            .where(Dataset.id.in_(wanted), dataset_filter(principal))
        )
    )
    missing = [i for i in wanted if i not in visible]
    if missing:
        raise InvalidInput(f"input dataset(s) {', '.join(map(str, missing))} do not exist")


def _naive(value: datetime | None) -> datetime | None:
    # Rows written by COPY skip the column type, so they get the stored form here.
    return None if value is None else as_utc(value).replace(tzinfo=None)


def _existing(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], Dataset]:
    unique = sorted(set(keys))
    if dialect_name(session) == "postgresql" and unique:
        # Two arrays in one statement: no thousand bound tuples to render per batch.
        investigations, locations = zip(*unique, strict=True)
        ids = list(
            session.scalars(
                _EXISTING_IDS,
                {"investigations": list(investigations), "locations": list(locations)},
            )
        )
        wanted = [
            Dataset.id.in_(ids[s : s + LOOKUP_CHUNK]) for s in range(0, len(ids), LOOKUP_CHUNK)
        ]
    else:
        wanted = [
            tuple_(Dataset.investigation_id, Dataset.location).in_(unique[s : s + LOOKUP_CHUNK])
            for s in range(0, len(unique), LOOKUP_CHUNK)
        ]
    found: dict[tuple[int, str], Dataset] = {}
    for condition in wanted:
        for dataset in session.scalars(select(Dataset).where(condition)):
            found[(dataset.investigation_id, dataset.location)] = dataset
    return found


def _parameter_row(dataset_id: int, type_id: int, value: NormalisedValue) -> tuple[Any, ...]:
    return (
        dataset_id,
        type_id,
        _json_text(value),
        value.unit,
        value.value_text,
        value.value_num,
        value.si_value,
        value.si_unit,
    )


def _json_text(value: NormalisedValue) -> str:
    # A number's text is already its JSON (normalise wrote it with json.dumps).
    if (
        value.value_num is not None
        and value.value_text is not None
        and not isinstance(value.value, str)
    ):
        return value.value_text
    return json.dumps(value.value)


def _number(value: float | None) -> str:
    return NULL if value is None else repr(value)


def _parameter_lines(created: list[_Created], type_ids: dict[str, int]) -> Iterator[str]:
    for dataset_id, _, params in created:
        yield "".join(
            [
                f"{dataset_id}\t{type_ids[name]}\t{copy_field(_json_text(v))}\t"
                f"{copy_field(v.unit)}\t{copy_field(v.value_text)}\t{_number(v.value_num)}\t"
                f"{_number(v.si_value)}\t{copy_field(v.si_unit)}\n"
                for name, v in params.items()
            ]
        )


# A file's path, size and checksum (validation fills in every key of FileIn).
_file_values = operator.itemgetter("path", "size", "checksum")


def _file_lines(created: list[_Created]) -> Iterator[str]:
    for dataset_id, item, _ in created:
        # Most paths and checksums need no escaping: format the dataset's lines as they
        # are, and escape each value only when the block shows that one needs it.
        files = item.files
        block = "".join(
            [
                f"{dataset_id}\t{path}\t{size}\t{NULL if checksum is None else checksum}\tonline\n"
                for path, size, checksum in map(_file_values, files)
            ]
        )
        if not plain_copy_text(block, len(files), len(FILE_COLUMNS)):
            block = "".join(
                [
                    f"{dataset_id}\t{copy_field(path)}\t{size}\t{copy_field(checksum)}\tonline\n"
                    for path, size, checksum in map(_file_values, files)
                ]
            )
        yield block


def _write_children(session: Session, created: list[_Created], type_ids: dict[str, int]) -> None:
    if dialect_name(session) == "postgresql":
        copy_text(
            session, "dataset_parameter", PARAMETER_COLUMNS, _parameter_lines(created, type_ids)
        )
        copy_text(session, "datafile", FILE_COLUMNS, _file_lines(created))
        return
    copy_rows(
        session,
        "dataset_parameter",
        PARAMETER_COLUMNS,
        (
            _parameter_row(dataset_id, type_ids[name], value)
            for dataset_id, _, params in created
            for name, value in params.items()
        ),
    )
    copy_rows(
        session,
        "datafile",
        FILE_COLUMNS,
        (
            (dataset_id, *_file_values(f), "online")
            for dataset_id, item, _ in created
            for f in item.files
        ),
    )


def _update_dataset(
    session: Session,
    principal: Principal,
    plan: Plan,
    dataset: Dataset,
    values: dict[str, Any],
    item: DatasetIn,
    params: dict[str, NormalisedValue],
    type_ids: dict[str, int],
) -> None:
    # Lock the row and read it as it is now: a concurrent registration of the same
    # location may have changed it since `dataset` was read, and the counters would
    # then take away what that registration no longer left there.
    now = session.execute(
        update(Dataset)
        .where(Dataset.id == dataset.id)
        .values(file_count=Dataset.file_count)
        .returning(
            Dataset.investigation_id,
            Dataset.technique,
            Dataset.start,
            Dataset.type,
            Dataset.instrument_id,
            Dataset.file_count,
            Dataset.volume_bytes,
        )
        .execution_options(synchronize_session=False)
    ).one()
    old_key = (
        now.investigation_id,
        now.technique,
        now.start.year,
        now.start.month,
        getattr(now.type, "value", now.type),
    )
    plan.count(old_key, now.instrument_id, -1, -now.file_count, -now.volume_bytes)
    changed = sorted(
        name
        for name, value in values.items()
        if name != "search_text" and getattr(dataset, name) != value
    )
    if params:
        statement = upsert_insert(session, DatasetParameter.__table__)
        statement = statement.on_conflict_do_update(
            index_elements=["dataset_id", "type_id"],
            set_={c: statement.excluded[c] for c in PARAMETER_COLUMNS[2:]},
        )
        session.execute(
            statement,
            [
                # The JSON column encodes the value itself: the row's pre-encoded text
                # (for COPY) would be stored as a string.
                dict(
                    zip(PARAMETER_COLUMNS, _parameter_row(dataset.id, type_ids[n], v), strict=True)
                )
                | {"value": v.value}
                for n, v in params.items()
            ],
        )
    if item.files:
        statement = upsert_insert(session, Datafile.__table__)
        statement = statement.on_conflict_do_update(
            index_elements=["dataset_id", "path"],
            set_={"size": statement.excluded.size, "checksum": statement.excluded.checksum},
        )
        session.execute(
            statement,
            [
                {
                    "dataset_id": dataset.id,
                    "path": f["path"],
                    "size": f["size"],
                    "checksum": f["checksum"],
                    "tier": "online",
                }
                for f in item.files
            ],
        )
    files, volume = session.execute(
        select(func.count(), func.coalesce(func.sum(Datafile.size), 0)).where(
            Datafile.dataset_id == dataset.id
        )
    ).one()
    parameter_count = session.scalar(
        select(func.count()).where(DatasetParameter.dataset_id == dataset.id)
    )
    session.execute(
        update(Dataset)
        .where(Dataset.id == dataset.id)
        .values(**values, file_count=files, volume_bytes=volume, parameter_count=parameter_count)
        .execution_options(synchronize_session=False)
    )
    new_key = (
        values["investigation_id"],
        values["technique"],
        values["start"].year,
        values["start"].month,
        values["type"],
    )
    plan.count(new_key, values["instrument_id"], 1, files, int(volume), values["start"])
    if changed or files != dataset.file_count or item.parameters:
        record(
            session,
            "dataset.update",
            "dataset",
            dataset.id,
            actor_id=principal.user_id,
            actor=principal.username or "system",
            fields=changed,
            files=files,
        )
    session.expire(dataset)


def _link_inputs(session: Session, links: Iterable[tuple[int, list[int]]]) -> None:
    rows = [
        {"dataset_id": dataset_id, "input_id": input_id}
        for dataset_id, inputs in links
        for input_id in inputs
        if input_id != dataset_id
    ]
    if rows:
        statement = upsert_insert(session, DatasetInput.__table__).on_conflict_do_nothing()
        session.execute(statement, rows)
