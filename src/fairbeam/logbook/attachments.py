"""Files attached to events: streamed to the storage folder under their checksum,
refused past the configured size."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_read_logbook, require_login
from fairbeam.config import Settings
from fairbeam.errors import InvalidInput, NotFound, PayloadTooLarge
from fairbeam.logbook.logbooks import target_of_event
from fairbeam.logbook.models import LogbookAttachment, LogbookEvent
from fairbeam.logbook.service import author_of, check_edit, get_event_row

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def blob_path(settings: Settings, checksum: str) -> Path:
    """Where the bytes of a checksum live: storage/logbook/ab/abcdef..."""
    digest = checksum.split(":", 1)[-1]
    return settings.storage / "logbook" / digest[:2] / digest


def too_large(settings: Settings, size: int | None = None) -> PayloadTooLarge:
    """The 413 of an attachment over the limit."""
    limit = settings.attachment_max_bytes
    got = f" ({size} bytes)" if size is not None else ""
    return PayloadTooLarge(
        f"the attachment is larger{got} than the limit of {limit} bytes "
        f"({limit / 1024 / 1024:.1f} MiB, FAIRBEAM_ATTACHMENT_MAX_BYTES)"
    )


def store_blob(settings: Settings, source: BinaryIO) -> tuple[str, int]:
    """Copy ``source`` into the storage folder; its checksum and size (413 past the limit)."""
    folder = settings.storage / "logbook"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
        try:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > settings.attachment_max_bytes:
                    raise too_large(settings)
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            handle.close()
            os.unlink(handle.name)
            raise
    checksum = f"sha256:{digest.hexdigest()}"
    final = blob_path(settings, checksum)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(handle.name, final)  # the same bytes: replacing a twin changes nothing
    return checksum, size


def add_attachment(
    session: Session,
    settings: Settings,
    principal: Principal,
    event_id: int,
    filename: str | None,
    content_type: str | None,
    source: BinaryIO | None,
) -> LogbookAttachment:
    """Attach a file to an event (whoever may change the event)."""
    require_login(principal)
    event, target = get_event_row(session, principal, event_id)
    check_edit(principal, event, target)
    if source is None:
        raise InvalidInput("send the file as multipart/form-data in a field named `file`")
    checksum, size = store_blob(settings, source)
    name = _UNSAFE.sub("_", Path(filename or "attachment").name)[:300] or "attachment"
    attachment = LogbookAttachment(
        event_id=event.id,
        filename=name,
        content_type=(content_type or "application/octet-stream")[:200],
        size=size,
        checksum=checksum,
        author_name=author_of(principal)["author_name"],
    )
    session.add(attachment)
    session.flush()
    return attachment


def get_attachment(
    session: Session, settings: Settings, principal: Principal, attachment_id: int
) -> tuple[LogbookAttachment, Path]:
    """An attachment the caller may read, and the path of its bytes."""
    attachment = session.get(LogbookAttachment, attachment_id)
    what = f"attachment {attachment_id}"
    if attachment is None:
        raise NotFound(f"{what} not found")
    event = session.scalar(select(LogbookEvent).where(LogbookEvent.id == attachment.event_id))
    if event is None:
        raise NotFound(f"{what} not found")
    target = target_of_event(session, event)
    check_read_logbook(principal, target.investigation, target.instrument_id, what)
    path = blob_path(settings, attachment.checksum)
    if not path.is_file():
        raise NotFound(f"the bytes of {what} are missing from the storage folder")
    return attachment, path
