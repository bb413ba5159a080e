"""How the client turns Python values into the API's query strings and JSON bodies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any, TypedDict

from pydantic import BaseModel

When = datetime | date | str


def when(value: When | None) -> str | None:
    """A time for the API: ISO strings pass as given, naive datetimes are taken as UTC."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()


def jsonable(value: Any) -> Any:
    """The JSON form of what ``json`` cannot encode itself (times, paths, numpy values)."""
    if isinstance(value, datetime | date):
        return when(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON: {value!r}")


def _parameter(value: Any) -> Any:
    """A parameter value: ``(value, unit)`` and pint quantities become ``{value, unit}``."""
    if isinstance(value, tuple) and len(value) == 2:
        return {"value": value[0], "unit": value[1]}
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        return {"value": value.magnitude, "unit": str(value.units)}
    return value


def _file(entry: Any) -> Any:
    """A file entry: a bare path stands for ``{"path": path}``."""
    return {"path": str(entry)} if isinstance(entry, str | PurePath) else entry


def dataset_body(fields: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    """The registration body for ``fields`` (unset fields are left to the server)."""
    if isinstance(fields, BaseModel):
        dumped: dict[str, Any] = fields.model_dump(mode="json", exclude_unset=True)
        return dumped
    body = {key: value for key, value in fields.items() if value is not None}
    if "parameters" in body:
        body["parameters"] = {k: _parameter(v) for k, v in body["parameters"].items()}
    if "files" in body:
        body["files"] = [_file(entry) for entry in body["files"]]
    for key in ("start", "end"):
        if key in body:
            body[key] = when(body[key])
    return body


def participants_body(participants: Any) -> list[dict[str, str]]:
    """Participants from ``{username: role}``, ``(username, role)`` pairs or mappings."""
    if isinstance(participants, Mapping):
        participants = participants.items()
    return [
        dict(p) if isinstance(p, Mapping) else {"username": p[0], "role": str(p[1])}
        for p in participants
    ]


class DatasetFilters(TypedDict, total=False):
    """The filters of the dataset list and of its facet counts."""

    investigation: str | int | None
    instrument: str | None
    sample: str | int | None
    technique: str | None
    type: str | None
    q: str | None
    param: str | Iterable[str] | None
    start_after: When | None
    start_before: When | None


def dataset_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The query string of the dataset filters; an unknown filter is refused, not ignored."""
    unknown = sorted(set(filters) - set(DatasetFilters.__annotations__))
    if unknown:
        known = ", ".join(DatasetFilters.__annotations__)
        raise TypeError(f"unknown dataset filter {', '.join(unknown)}; use {known}")
    query = {key: value for key, value in filters.items() if value is not None}
    for key in ("investigation", "sample"):
        if key in query:
            query[key] = str(query[key])
    for key in ("start_after", "start_before"):
        if key in query:
            query[key] = when(query[key])
    if isinstance(query.get("param"), str):
        query["param"] = [query["param"]]
    elif "param" in query:
        query["param"] = list(query["param"])
    return query
