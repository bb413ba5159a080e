"""What the client returns: the API's own schemas, with readable reprs and flat rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, field_validator

from fairbeam.access.schemas import UserOut
from fairbeam.catalogue.schemas import (
    DatafileOut,
    DatasetOut,
    Facets,
    InstrumentOut,
    InvestigationOut,
    Registered,
)
from fairbeam.client.display import html_fields, html_table, human_size, show
from fairbeam.policy.restore_schemas import RestoreOut
from fairbeam.stats.service import Stats

__all__ = [
    "Datafile",
    "Dataset",
    "Facets",
    "Instrument",
    "Investigation",
    "Record",
    "Registered",
    "Restore",
    "Stats",
    "User",
]


class Record(BaseModel):
    """Base of the client's results: datetimes in aware UTC, a flat row for tables."""

    @field_validator("*", mode="after")
    @classmethod
    def _in_utc(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def row(self) -> dict[str, Any]:
        """The fields as one flat row of a table (used by ``to_dataframe``)."""
        return self.model_dump()

    def _repr_html_(self) -> str:
        return html_fields(type(self).__name__, self.row())


class Instrument(InstrumentOut, Record):
    """A beamline and its techniques."""

    def __repr__(self) -> str:
        techniques = f" [{', '.join(self.techniques)}]" if self.techniques else ""
        return f"<Instrument {self.name} {self.full_name!r}{techniques}>"


class Investigation(InvestigationOut, Record):
    """A proposal's session on a beamline: its high-level metadata and counts."""

    def __repr__(self) -> str:
        state = "open" if self.public else "embargoed"
        return (
            f"<Investigation {self.code} {self.title!r} on {self.instrument}, "
            f"start {self.start:%Y-%m-%d}, {state}, {self.dataset_count} datasets, "
            f"{human_size(self.volume_bytes)}>"
        )

    def row(self) -> dict[str, Any]:
        """The investigation as a flat row; participants become ``username (role)``."""
        fields = self.model_dump(exclude={"participants"})
        fields["participants"] = [f"{p.username} ({p.role.value})" for p in self.participants]
        return fields


class Dataset(DatasetOut, Record):
    """A dataset with its parameters (as submitted), sample and provenance."""

    def __repr__(self) -> str:
        return (
            f"<Dataset {self.id} {self.name!r} of {self.investigation} on {self.instrument}, "
            f"{self.type.value} {self.technique or '-'}, {self.file_count} files, "
            f"{human_size(self.volume_bytes)}>"
        )

    def parameter(self, name: str) -> Any:
        """The value of parameter ``name`` as submitted (its unit is in ``parameters``)."""
        return self.parameters[name].value

    def row(self) -> dict[str, Any]:
        """The dataset as a flat row: one column per parameter, named with its unit."""
        fields = self.model_dump(exclude={"parameters", "sample"})
        fields["sample"] = self.sample.name if self.sample else None
        for name, parameter in self.parameters.items():
            column = f"{name} [{parameter.unit}]" if parameter.unit else name
            fields[column if column not in fields else f"parameter {column}"] = parameter.value
        return fields

    def _repr_html_(self) -> str:
        fields = self.row()
        summary = {k: fields[k] for k in fields if k in DatasetOut.model_fields}
        summary["volume_bytes"] = human_size(self.volume_bytes)
        parameters = [
            {"parameter": name, "value": show(p.value), "unit": p.unit or ""}
            for name, p in self.parameters.items()
        ]
        title = f"Dataset {self.id}: {self.name}"
        table = html_table(parameters, "parameters") if parameters else ""
        return html_fields(title, summary) + table


class Datafile(DatafileOut, Record):
    """One file of a dataset: its path, size, checksum and storage tier."""

    def __repr__(self) -> str:
        return f"<Datafile {self.id} {self.path!r} {human_size(self.size)} {self.tier}>"


class User(UserOut, Record):
    """The caller: username, role and the beamlines they serve."""

    def __repr__(self) -> str:
        if self.anonymous:
            return "<User anonymous>"
        role = self.role.value if self.role else "-"
        beamlines = f" on {', '.join(self.instruments)}" if self.instruments else ""
        return f"<User {self.username} ({role}){beamlines}>"


class Restore(RestoreOut, Record):
    """A restore request of archived data: queued, running, done or failed."""

    def __repr__(self) -> str:
        return f"<Restore {self.id} of dataset {self.dataset}: {self.status}>"
