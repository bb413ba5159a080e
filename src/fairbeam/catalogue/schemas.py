"""What the catalogue API takes and answers."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Generic, NotRequired, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    with_config,
)
from typing_extensions import TypedDict

from fairbeam.catalogue.models import DatasetType, ParticipantRole
from fairbeam.db.base import MAX_BIGINT, as_utc

T = TypeVar("T")

Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=50,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$",
    ),
]
Text = Annotated[str, StringConstraints(max_length=100_000)]
MAX_FILES_PER_REQUEST = 250_000
MAX_FILE_SIZE = 2**50  # 1 PiB; a dataset's files then add up to what a BIGINT holds


def _in_utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


# A date and time, in UTC (a naive one is taken to be UTC).
Moment = Annotated[datetime, AfterValidator(_in_utc)]
RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]


def row_id(ref: str) -> int | None:
    """``ref`` as a row id when it is one (ASCII digits that fit a BIGINT), else None."""
    if ref.isascii() and ref.isdigit() and len(ref) <= 19 and int(ref) <= MAX_BIGINT:
        return int(ref)
    return None


def check_storable(value: Any) -> Any:
    """Refuse what no database column holds: NUL characters and non-finite numbers."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("a text may not contain a NUL character")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a number must be finite, not NaN or infinity")
    if isinstance(value, dict):
        for key, item in value.items():
            check_storable(key)
            check_storable(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_storable(item)
    return value


class Page(BaseModel, Generic[T]):
    """One page of a list, and the cursor of the next (null on the last page)."""

    items: list[T]
    next: str | None = None


class Closed(BaseModel):
    """An input model that refuses fields it does not know, so typos are reported."""

    model_config = ConfigDict(extra="forbid")


class Strict(Closed):
    """An input model that also refuses what no column can store, in every field."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_storable(value)


class InstrumentIn(Strict):
    name: Name
    full_name: str = Field(default="", max_length=200)
    description: Text = ""
    techniques: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = []


class InstrumentOut(BaseModel):
    id: int
    name: str
    full_name: str
    description: str
    techniques: list[str]


class ParticipantIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    role: ParticipantRole


class ParticipantOut(BaseModel):
    username: str
    full_name: str
    orcid: str | None
    role: ParticipantRole


class InvestigationIn(Strict):
    code: Name
    visit: str = Field(default="", max_length=50)
    title: str = Field(min_length=1, max_length=500)
    abstract: Text = ""
    instrument: str = Field(min_length=1, max_length=50)
    start: Moment
    end: Moment | None = None
    release_date: Moment | None = None
    proposal_type: str = Field(default="standard", min_length=1, max_length=40)
    doi: str | None = Field(default=None, max_length=200)
    participants: list[ParticipantIn] = []


class InvestigationOut(BaseModel):
    id: int
    code: str
    visit: str
    title: str
    abstract: str
    instrument: str
    start: datetime
    end: datetime | None
    release_date: datetime | None
    released: datetime | None = Field(description="When the policy pass released it.")
    doi: str | None
    doi_state: str | None = Field(description="draft, registered or findable; null: no DOI.")
    proposal_type: str
    public: bool
    placeholder: bool
    participants: list[ParticipantOut]
    dataset_count: int
    file_count: int
    volume_bytes: int


class ParameterIn(Strict):
    value: Any
    unit: str | None = Field(default=None, max_length=50)


class SampleIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    chemical_formula: str | None = Field(default=None, max_length=200)
    description: Text = ""


@with_config(ConfigDict(extra="forbid"))
class FileIn(TypedDict):
    """A file of a registered dataset: its path below the dataset's location, its size
    in bytes (0 if not given) and its checksum (null if not given).

    A plain dict, not a model: a request may list 200,000 files, and dicts of strings and
    numbers cost a fraction of model instances to build and nothing to the garbage
    collector. ``DatasetIn`` checks the list as a whole and fills in the defaults.
    """

    path: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    size: NotRequired[Annotated[int, Field(ge=0, le=MAX_FILE_SIZE)]]
    checksum: NotRequired[Annotated[str | None, StringConstraints(max_length=200)]]


def _check_files(files: list[FileIn]) -> list[FileIn]:
    """Paths unique, no NUL character anywhere, and every key present."""
    paths = [entry["path"] for entry in files]
    if len(set(paths)) != len(paths):
        seen: set[str] = set()
        for path in paths:
            if path in seen:
                raise ValueError(f"path {path!r} is listed twice")
            seen.add(path)
    checksums = [entry.get("checksum") or "" for entry in files]
    for key, values in (("path", paths), ("checksum", checksums)):
        if "\x00" in "".join(values):
            index = next(i for i, value in enumerate(values) if "\x00" in value)
            raise ValueError(f"files.{index}.{key} may not contain a NUL character")
    for index, entry in enumerate(files):
        if len(entry) < 3:
            files[index] = {"path": entry["path"], "size": 0, "checksum": None} | entry
    return files


# A parameter's value: tried in this order, each strictly, so a value keeps the type it was
# sent with (1.0 stays a float, true a boolean); the first that fits is taken, which
# costs a third less than trying every type for the best fit.
ParameterValue = Annotated[
    ParameterIn | str | StrictBool | StrictInt | float | list[Any] | None,
    Field(union_mode="left_to_right"),
]


class DatasetIn(Closed):
    investigation: str = Field(min_length=1, max_length=50, description="Proposal code.")
    instrument: str | None = Field(default=None, max_length=50)
    name: str = Field(min_length=1, max_length=300)
    location: str = Field(min_length=1, max_length=1000)
    type: DatasetType = DatasetType.raw
    technique: str = Field(default="", max_length=100)
    start: Moment | None = None
    end: Moment | None = None
    sample: str | SampleIn | None = None
    parameters: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=200)], ParameterValue
    ] = {}
    files: Annotated[
        list[FileIn], Field(max_length=MAX_FILES_PER_REQUEST), AfterValidator(_check_files)
    ] = []
    inputs: list[RowId] = []

    # Every field but the files, which are checked as one list by _check_files (a test in
    # tests/api/test_errors.py fails when a new field is in neither).
    @field_validator(
        "investigation", "instrument", "name", "location", "technique", "sample", "parameters"
    )
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_storable(value)


class DatasetBatchIn(Strict):
    datasets: list[DatasetIn] = Field(min_length=1, max_length=10_000)


class Registered(BaseModel):
    id: int
    location: str
    created: bool


class SampleOut(BaseModel):
    id: int
    name: str
    chemical_formula: str | None


class InvestigationSampleOut(SampleOut):
    description: str
    dataset_count: int


class ParameterOut(BaseModel):
    value: Any
    unit: str | None


class DatasetOut(BaseModel):
    id: int
    investigation: str
    investigation_id: int
    instrument: str
    name: str
    location: str
    type: DatasetType
    technique: str
    start: datetime
    end: datetime | None
    sample: SampleOut | None
    parameters: dict[str, ParameterOut]
    file_count: int
    volume_bytes: int
    inputs: list[int]
    outputs: list[int]
    created: datetime
    # Where its bytes are: online, archived, restoring or deleted (the data policy).
    storage_state: str = "online"


class DatafileOut(BaseModel):
    id: int
    dataset: int
    path: str
    size: int
    checksum: str | None
    tier: str


class FacetCount(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    instrument: list[FacetCount]
    technique: list[FacetCount]
    year: list[FacetCount]
    type: list[FacetCount]
    total: int
