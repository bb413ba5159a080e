"""What the logbook API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from fairbeam.catalogue.schemas import RowId, Strict, check_storable
from fairbeam.logbook.models import Category, ContentFormat, EventType

MAX_CONTENT = 10_000_000  # characters: inline images travel as data: URIs
MAX_BATCH = 10_000

Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(check_storable),
]
Content = Annotated[str, Field(max_length=MAX_CONTENT), AfterValidator(check_storable)]
Key = Annotated[
    str, StringConstraints(min_length=1, max_length=150), AfterValidator(check_storable)
]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class EventIn(Strict):
    """A new event: where it goes, what it says, what it is about."""

    investigation: Reference | None = Field(None, description="Investigation id or code.")
    instrument: Reference | None = Field(None, description="Beamline name (its own logbook).")
    type: EventType = EventType.annotation
    category: Category | None = Field(
        None, description="Default `comment` for annotations, `info` for notifications."
    )
    content: Content
    format: ContentFormat = ContentFormat.markdown
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    dataset: RowId | None = None
    sample: RowId | None = None
    datafile: RowId | None = None
    software: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="The program posting, shown after the token's name."
    )
    idempotency_key: Key | None = Field(
        None, description="A retried request with the same key never posts twice."
    )


class EventEdit(Strict):
    """A new version of an event; ``version`` is the one the edit started from."""

    version: int | None = Field(
        None, ge=1, description="The version edited (or send it as `If-Match`)."
    )
    content: Content
    format: ContentFormat | None = None
    category: Category | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    dataset: RowId | None = None
    sample: RowId | None = None
    datafile: RowId | None = None


class BatchIn(Strict):
    """Many events in one transaction: all or nothing, in the order given."""

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class Author(BaseModel):
    """Who wrote an event: a person, software (with its name) or fairbeam itself."""

    name: str
    kind: str


class AttachmentOut(BaseModel):
    """A file attached to an event."""

    id: int
    event: int
    filename: str
    content_type: str
    size: int
    checksum: str
    created: datetime
    author: str
    url: str


class EventOut(BaseModel):
    """An event as it reads now."""

    id: int
    sequence: int
    logbook: str  # "investigation:ID" or "instrument:ID"
    investigation: int | None
    instrument: str
    created: datetime
    updated: datetime
    version: int
    deleted: bool
    author: Author
    type: str
    category: str
    format: str
    content: str
    html: str
    tags: list[str]
    dataset: int | None
    sample: int | None
    datafile: int | None
    attachments: list[AttachmentOut] = Field(default_factory=list)


class EventPage(BaseModel):
    """A page of events, with cursors to the next page and to the previous one."""

    items: list[EventOut]
    next: str | None = None
    previous: str | None = None


class VersionOut(BaseModel):
    """One version of an event, with who wrote it and when."""

    version: int
    written: datetime
    author: Author
    deleted: bool
    category: str
    format: str
    content: str
    html: str
    tags: list[str]
    dataset: int | None
    sample: int | None
    datafile: int | None


class Posted(BaseModel):
    """An event a write made, or found already made by the same idempotency key."""

    id: int
    sequence: int
    logbook: str
    created: bool


class BatchOut(BaseModel):
    """The events of a batch, in the order sent."""

    items: list[Posted]


class LogbookCount(BaseModel):
    """Events of one logbook in the period."""

    logbook: str
    investigation: int | None
    code: str | None
    instrument: str
    events: int
    annotations: int
    notifications: int


class DayCount(BaseModel):
    """Events of one day."""

    day: str
    annotations: int
    notifications: int


class LogbookStats(BaseModel):
    """How the logbook is used in a period: totals, per day, and the largest logbooks."""

    since: str
    events: int
    annotations: int
    notifications: int
    logbooks: int
    days: list[DayCount]
    largest: list[LogbookCount]
