"""Catalogue tables, after ICAT's model: facility, instrument, investigation, sample,
dataset, datafile, with typed parameters and provenance."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairbeam.access.models import User
from fairbeam.db.base import Base, UTCDateTime, utcnow


class ParticipantRole(enum.StrEnum):
    """A person's part in an investigation."""

    principal_investigator = "principal_investigator"
    co_investigator = "co_investigator"
    local_contact = "local_contact"
    collaborator = "collaborator"


class DatasetType(enum.StrEnum):
    """Raw data from an acquisition, or the result of processing."""

    raw = "raw"
    processed = "processed"


class Facility(Base):
    """The facility running fairbeam (one row in most installations)."""

    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(300), default="")


class Instrument(Base):
    """A beamline or instrument, with the techniques it offers."""

    __tablename__ = "instrument"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    name: Mapped[str] = mapped_column(String(50), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Investigation(Base):
    """A proposal's session of beam time on an instrument."""

    __tablename__ = "investigation"
    __table_args__ = (
        UniqueConstraint("code", "visit", name="uq_investigation_code_visit"),
        Index("ix_investigation_instrument_start", "instrument_id", "start"),
        Index("ix_investigation_start_id", "start", "id"),
        Index("ix_investigation_release_date", "release_date"),
        Index("ix_investigation_newest_dataset", "newest_dataset_start", "release_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    visit: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(500))
    abstract: Mapped[str] = mapped_column(Text, default="")
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the policy pass released it (made its DOI findable); None while closed.
    released: Mapped[datetime | None] = mapped_column(UTCDateTime)
    doi: Mapped[str | None] = mapped_column(String(200), unique=True)
    proposal_type: Mapped[str] = mapped_column(String(40), default="standard")
    placeholder: Mapped[bool] = mapped_column(default=False)
    dataset_count: Mapped[int] = mapped_column(Integer, default=0)
    file_count: Mapped[int] = mapped_column(BigInteger, default=0)
    volume_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # No dataset of it starts later (null: none was registered). A dataset list sorted
    # newest first starts below the latest of those the caller may see, instead of
    # reading past every embargoed dataset above it.
    newest_dataset_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instrument: Mapped[Instrument] = relationship(lazy="joined")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="investigation", cascade="all, delete-orphan"
    )


class Participant(Base):
    """A person's role in an investigation."""

    __tablename__ = "participant"

    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("investigation.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[ParticipantRole] = mapped_column(
        Enum(ParticipantRole, native_enum=False, length=30)
    )

    investigation: Mapped[Investigation] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(lazy="joined")


class Sample(Base):
    """A specimen measured in an investigation."""

    __tablename__ = "sample"
    __table_args__ = (UniqueConstraint("investigation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("investigation.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    chemical_formula: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Dataset(Base):
    """One acquisition (raw) or one processing result (processed), with its files."""

    __tablename__ = "dataset"
    __table_args__ = (
        UniqueConstraint("investigation_id", "location", name="uq_dataset_investigation_location"),
        # Investigation and instrument ride along so that access checks of a walk
        # back through the newest (embargoed) datasets read only the index.
        Index("ix_dataset_start_id", "start", "id", "investigation_id", "instrument_id"),
        Index("ix_dataset_instrument_start_id", "instrument_id", "start", "id"),
        Index("ix_dataset_investigation_start_id", "investigation_id", "start", "id"),
        Index("ix_dataset_sample", "sample_id"),
        # The policy pass finds datasets due for archive or deletion by state and age.
        Index("ix_dataset_storage_state_start", "storage_state", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("investigation.id"))
    # Copied from the investigation so that a beamline's datasets need no join.
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("sample.id"))
    name: Mapped[str] = mapped_column(String(300))
    location: Mapped[str] = mapped_column(String(1000))
    type: Mapped[DatasetType] = mapped_column(Enum(DatasetType, native_enum=False, length=20))
    technique: Mapped[str] = mapped_column(String(100), default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    volume_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    parameter_count: Mapped[int] = mapped_column(Integer, default=0)
    # Words the text search looks in: names, sample, technique, text parameters.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # online, archived, restoring or deleted (policy.models.StorageState).
    storage_state: Mapped[str] = mapped_column(
        String(20), default="online", server_default="online"
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    investigation: Mapped[Investigation] = relationship(lazy="joined")
    sample: Mapped[Sample | None] = relationship(lazy="joined")


class DatasetInput(Base):
    """Provenance: a processed dataset was made from an input dataset."""

    __tablename__ = "dataset_input"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    input_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Datafile(Base):
    """A file of a dataset: path relative to the dataset's location, size, checksum, tier."""

    __tablename__ = "datafile"
    # (dataset_id, path) is unique and orders a dataset's file list.
    __table_args__ = (UniqueConstraint("dataset_id", "path", name="uq_datafile_dataset_path"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    checksum: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20), default="online")


class ParameterType(Base):
    """A parameter name, with the unit it is usually given in and its SI unit."""

    __tablename__ = "parameter_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[str | None] = mapped_column(String(50))
    si_unit: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")


class DatasetParameter(Base):
    """A parameter of a dataset: the value and unit exactly as given, and the SI value
    beside them so that conditions in any unit run on an index."""

    __tablename__ = "dataset_parameter"
    __table_args__ = (
        Index("ix_dataset_parameter_si", "type_id", "si_value"),
        Index("ix_dataset_parameter_num", "type_id", "value_num"),
    )

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    type_id: Mapped[int] = mapped_column(ForeignKey("parameter_type.id"), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)  # exactly as submitted
    unit: Mapped[str | None] = mapped_column(String(50))  # exactly as submitted
    value_text: Mapped[str | None] = mapped_column(String(500))
    value_num: Mapped[float | None] = mapped_column(Float)
    si_value: Mapped[float | None] = mapped_column(Float)
    si_unit: Mapped[str | None] = mapped_column(String(100))


class DatasetSummary(Base):
    """Dataset counts per investigation, technique, month and type: facet counts and
    the statistics over time read this small table instead of a million datasets."""

    __tablename__ = "dataset_summary"

    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("investigation.id", ondelete="CASCADE"), primary_key=True
    )
    technique: Mapped[str] = mapped_column(String(100), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    datasets: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(BigInteger, default=0)
    volume_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
