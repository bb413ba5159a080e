"""Logbook tables: one logbook per investigation and per beamline, its events, the
superseded versions of each event, tags, attachments and per-day counts."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fairbeam.db.base import Base, UTCDateTime, utcnow

# A BIGINT key on PostgreSQL, SQLite's rowid alias there.
Id = BigInteger().with_variant(Integer, "sqlite")


class EventType(enum.StrEnum):
    """Written by a person (annotation) or reported by software (notification)."""

    annotation = "annotation"
    notification = "notification"


class Category(enum.StrEnum):
    """What an event is about."""

    info = "info"
    error = "error"
    debug = "debug"
    commandLine = "commandLine"  # noqa: N815 - the name of the contract
    comment = "comment"


class ContentFormat(enum.StrEnum):
    """How the content was written; it is always also kept as sanitised HTML."""

    markdown = "markdown"
    html = "html"
    text = "text"


class AuthorKind(enum.StrEnum):
    """Who wrote an event: a person, a piece of software with a token, or fairbeam."""

    person = "person"
    software = "software"
    system = "system"


class Logbook(Base):
    """The logbook of an investigation or of a beamline, with its sequence counter."""

    __tablename__ = "logbook"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "investigation:ID" or "instrument:ID": one logbook each, on both engines.
    key: Mapped[str] = mapped_column(String(40), unique=True)
    investigation_id: Mapped[int | None] = mapped_column(
        ForeignKey("investigation.id", ondelete="CASCADE")
    )
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    # The sequence number the next event gets; updated in the writer's transaction,
    # which serialises writers of one logbook on both engines.
    next_sequence: Mapped[int] = mapped_column(BigInteger, default=1)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    annotations: Mapped[int] = mapped_column(BigInteger, default=0)
    notifications: Mapped[int] = mapped_column(BigInteger, default=0)
    last_event: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LogbookEvent(Base):
    """An event as it reads now; earlier versions are in LogbookEventVersion."""

    __tablename__ = "logbook_event"
    __table_args__ = (
        UniqueConstraint("logbook_id", "sequence", name="uq_logbook_event_sequence"),
        UniqueConstraint("logbook_id", "idempotency_key", name="uq_logbook_event_idempotency"),
        Index("ix_logbook_event_logbook_created", "logbook_id", "created", "sequence"),
        Index("ix_logbook_event_dataset", "dataset_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    logbook_id: Mapped[int] = mapped_column(ForeignKey("logbook.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    # Copied from the logbook so that access filters need no join through it.
    investigation_id: Mapped[int | None] = mapped_column(Integer)
    instrument_id: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(200))
    author_kind: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)  # as written
    html: Mapped[str] = mapped_column(Text)  # sanitised, what a browser shows
    search_text: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    sample_id: Mapped[int | None] = mapped_column(Integer)
    datafile_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))


class LogbookEventVersion(Base):
    """A superseded version of an event, exactly as it read then."""

    __tablename__ = "logbook_event_version"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("logbook_event.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    written: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(200))
    author_kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    sample_id: Mapped[int | None] = mapped_column(Integer)
    datafile_id: Mapped[int | None] = mapped_column(BigInteger)


class LogbookTag(Base):
    """A tag of an event as it reads now, for the tag filter."""

    __tablename__ = "logbook_tag"
    __table_args__ = (Index("ix_logbook_tag_tag_event", "tag", "event_id"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("logbook_event.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class LogbookAttachment(Base):
    """A file attached to an event, stored once per checksum under the storage folder."""

    __tablename__ = "logbook_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("logbook_event.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(80))  # "sha256:HEX"
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_name: Mapped[str] = mapped_column(String(200))


class LogbookDay(Base):
    """Events written per logbook and day, so statistics never count a million rows."""

    __tablename__ = "logbook_day"

    logbook_id: Mapped[int] = mapped_column(
        ForeignKey("logbook.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    annotations: Mapped[int] = mapped_column(Integer, default=0)
    notifications: Mapped[int] = mapped_column(Integer, default=0)


def event_columns(event: LogbookEvent) -> dict[str, Any]:
    """The fields of ``event`` that a version keeps."""
    return {
        "author_id": event.author_id,
        "author_name": event.author_name,
        "author_kind": event.author_kind,
        "category": event.category,
        "format": event.format,
        "content": event.content,
        "html": event.html,
        "tags": list(event.tags or []),
        "deleted": event.deleted,
        "dataset_id": event.dataset_id,
        "sample_id": event.sample_id,
        "datafile_id": event.datafile_id,
    }
