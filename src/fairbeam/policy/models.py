"""Tables of the data policy: DOIs, requests (DOI for a collection, embargo extension,
restore), archive bundles and the record of each policy pass."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fairbeam.db.base import Base, UTCDateTime, utcnow


class StorageState(enum.StrEnum):
    """Where a dataset's bytes are (``dataset.storage_state``)."""

    online = "online"  # on disk, where acquisition wrote them
    archived = "archived"  # only in an archive bundle
    restoring = "restoring"  # coming back from the archive
    deleted = "deleted"  # gone for good, by the policy, with an audit record


class DoiState(enum.StrEnum):
    """DataCite's states of a DOI."""

    draft = "draft"
    registered = "registered"  # resolves, not in DataCite's search
    findable = "findable"  # resolves and is indexed


class RequestStatus(enum.StrEnum):
    """A request a data manager decides on."""

    pending = "pending"
    approved = "approved"
    refused = "refused"


class BundleState(enum.StrEnum):
    """The steps of archiving one dataset; each is committed before the next starts."""

    packing = "packing"  # the bundle is being written
    packed = "packed"  # written and flushed, not yet read back
    verified = "verified"  # read back, every checksum matches the manifest
    complete = "complete"  # the online copy is removed; the bundle holds the data
    deleted = "deleted"  # removed at the end of retention


# The states a pass resumes, as the partial index of unfinished bundles states them.
UNFINISHED_BUNDLE = (BundleState.packing, BundleState.packed, BundleState.verified)
_UNFINISHED = f"state IN ({', '.join(repr(str(state)) for state in UNFINISHED_BUNDLE)})"


class RestoreStatus(enum.StrEnum):
    """The life of a restore request."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Doi(Base):
    """A DOI the facility minted, for an investigation or for a collection of datasets."""

    __tablename__ = "doi"

    id: Mapped[int] = mapped_column(primary_key=True)
    doi: Mapped[str] = mapped_column(String(200), unique=True)
    investigation_id: Mapped[int | None] = mapped_column(
        ForeignKey("investigation.id", ondelete="SET NULL"), unique=True
    )
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("doi_collection.id", ondelete="SET NULL"), unique=True
    )
    state: Mapped[str] = mapped_column(String(20), default=DoiState.registered)
    url: Mapped[str] = mapped_column(String(500), default="")
    # The DataCite attributes last built for it, and whether the registry has them.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    synced: Mapped[bool] = mapped_column(default=False, index=True)
    sync_error: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DoiCollection(Base):
    """A user's request for a DOI on datasets across investigations."""

    __tablename__ = "doi_collection"
    __table_args__ = (Index("ix_doi_collection_status_created", "status", "created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.pending)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DoiCollectionDataset(Base):
    """A dataset in a collection."""

    __tablename__ = "doi_collection_dataset"

    collection_id: Mapped[int] = mapped_column(
        ForeignKey("doi_collection.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class EmbargoExtension(Base):
    """A principal investigator's request to keep data closed longer, and its decision."""

    __tablename__ = "embargo_extension"
    __table_args__ = (Index("ix_embargo_extension_status_created", "status", "created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("investigation.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text)
    # The release date when asked, and the one asked for.
    previous_release: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_release: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.pending)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArchiveBundle(Base):
    """One dataset packed on the archive tier, with a manifest of its files' checksums."""

    __tablename__ = "archive_bundle"
    # The unfinished bundles, which a pass resumes (migration 0010 says why no more).
    __table_args__ = (
        Index(
            "ix_archive_bundle_unfinished",
            "id",
            postgresql_where=text(_UNFINISHED),
            sqlite_where=text(_UNFINISHED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    # Relative to the archive folder (FAIRBEAM_ARCHIVE).
    path: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(20), default=BundleState.packing)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes of the data inside
    bundle_size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes of the bundle
    checksum: Mapped[str | None] = mapped_column(String(200))  # of the bundle file
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Data is kept in the archive until this day, then deleted by the policy.
    keep_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RestoreRequest(Base):
    """A request to bring an archived dataset back online."""

    __tablename__ = "restore_request"
    __table_args__ = (Index("ix_restore_request_status_created", "status", "created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=RestoreStatus.queued)
    error: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PolicyPass(Base):
    """One pass of the data policy: when, as of which day, and what it did."""

    __tablename__ = "policy_pass"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    started: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(20), default="command")  # command, schedule
    dry_run: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, done, failed
    # Counts per step ({"released": 3, "archived": 120, ...}) and the error if it failed.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
