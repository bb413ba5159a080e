"""Which logbook a request names, the logbook's row, and events as the API shows them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.catalogue.bulk import upsert_insert
from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.catalogue.service import get_instrument, get_investigation
from fairbeam.errors import InvalidInput
from fairbeam.logbook.models import Logbook, LogbookAttachment, LogbookEvent, LogbookEventVersion
from fairbeam.logbook.schemas import AttachmentOut, Author, EventOut, VersionOut


@dataclass(frozen=True)
class Target:
    """A logbook: an investigation's, or a beamline's own (``investigation`` None)."""

    key: str
    investigation: Investigation | None
    instrument_id: int
    instrument_name: str

    @property
    def what(self) -> str:
        """The logbook's name in messages."""
        if self.investigation is not None:
            return f"logbook of investigation {self.investigation.code}"
        return f"logbook of instrument {self.instrument_name}"


def logbook_key(investigation_id: int | None, instrument_id: int) -> str:
    """The unique key of a logbook row."""
    if investigation_id is not None:
        return f"investigation:{investigation_id}"
    return f"instrument:{instrument_id}"


def resolve_target(
    session: Session, investigation: str | int | None, instrument: str | None
) -> Target:
    """The logbook named by an investigation (id or code) or an instrument (name)."""
    if (investigation is None) == (instrument is None):
        raise InvalidInput(
            "name one logbook: `investigation` (id or code) or `instrument` (a beamline's "
            "own logbook), not both"
        )
    if investigation is not None:
        found = get_investigation(session, investigation)
        return Target(
            logbook_key(found.id, found.instrument_id),
            found,
            found.instrument_id,
            found.instrument.name,
        )
    beamline = get_instrument(session, str(instrument))
    return Target(logbook_key(None, beamline.id), None, beamline.id, beamline.name)


def target_of_event(session: Session, event: LogbookEvent) -> Target:
    """The logbook an event is in."""
    if event.investigation_id is not None:
        found = get_investigation(session, event.investigation_id)
        key = logbook_key(found.id, found.instrument_id)
        return Target(key, found, event.instrument_id, found.instrument.name)
    beamline = session.scalar(select(Instrument.name).where(Instrument.id == event.instrument_id))
    return Target(logbook_key(None, event.instrument_id), None, event.instrument_id, beamline or "")


def find_logbook(session: Session, target: Target) -> int | None:
    """The id of ``target``'s logbook row, None before its first event."""
    return session.scalar(select(Logbook.id).where(Logbook.key == target.key))


def ensure_logbook(session: Session, target: Target) -> int:
    """The id of ``target``'s logbook row, made if missing (safe against a concurrent maker)."""
    found = find_logbook(session, target)
    if found is not None:
        return found
    investigation_id = target.investigation.id if target.investigation is not None else None
    session.execute(
        upsert_insert(session, Logbook)
        .values(
            key=target.key,
            investigation_id=investigation_id,
            instrument_id=target.instrument_id,
            next_sequence=1,
            events=0,
            annotations=0,
            notifications=0,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    made = find_logbook(session, target)
    assert made is not None
    return made


def instrument_names(session: Session) -> dict[int, str]:
    """Every beamline's name by id (a facility has tens)."""
    return {row.id: row.name for row in session.execute(select(Instrument.id, Instrument.name))}


def attachment_url(attachment_id: int) -> str:
    """Where an attachment's bytes are served."""
    return f"/api/logbook/attachments/{attachment_id}/content"


def attachment_out(attachment: LogbookAttachment) -> AttachmentOut:
    """An attachment as the API shows it."""
    return AttachmentOut(
        id=attachment.id,
        event=attachment.event_id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        checksum=attachment.checksum,
        created=attachment.created,
        author=attachment.author_name,
        url=attachment_url(attachment.id),
    )


def events_out(
    session: Session, events: Sequence[LogbookEvent], names: dict[int, str] | None = None
) -> list[EventOut]:
    """Events as the API shows them, with their attachments (one query for all);
    ``names`` of their beamlines by id when the caller knows them."""
    if not events:
        return []
    if names is None:
        names = instrument_names(session)
    attached: dict[int, list[AttachmentOut]] = defaultdict(list)
    for attachment in session.scalars(
        select(LogbookAttachment)
        .where(LogbookAttachment.event_id.in_([e.id for e in events]))
        .order_by(LogbookAttachment.id)
    ):
        attached[attachment.event_id].append(attachment_out(attachment))
    return [
        EventOut(
            id=e.id,
            sequence=e.sequence,
            logbook=logbook_key(e.investigation_id, e.instrument_id),
            investigation=e.investigation_id,
            instrument=names.get(e.instrument_id, ""),
            created=e.created,
            updated=e.updated,
            version=e.version,
            deleted=e.deleted,
            author=Author(name=e.author_name, kind=e.author_kind),
            type=e.type,
            category=e.category,
            format=e.format,
            content=e.content,
            html=e.html,
            tags=list(e.tags or []),
            dataset=e.dataset_id,
            sample=e.sample_id,
            datafile=e.datafile_id,
            attachments=attached.get(e.id, []),
        )
        for e in events
    ]


def version_out(
    row: LogbookEvent | LogbookEventVersion, version: int, written: object
) -> VersionOut:
    """One version of an event: a superseded row, or the event as it reads now."""
    return VersionOut.model_validate(
        {
            "version": version,
            "written": written,
            "author": Author(name=row.author_name, kind=row.author_kind),
            "deleted": row.deleted,
            "category": row.category,
            "format": row.format,
            "content": row.content,
            "html": row.html,
            "tags": list(row.tags or []),
            "dataset": row.dataset_id,
            "sample": row.sample_id,
            "datafile": row.datafile_id,
        }
    )
