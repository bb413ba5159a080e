"""The live stream of a logbook as server-sent events: each event's id is its sequence
number, so a client that reconnects with Last-Event-ID misses nothing. The database is
the source of truth, so streams work behind several API processes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_read_logbook
from fairbeam.errors import InvalidInput
from fairbeam.logbook.logbooks import Target, events_out, find_logbook, resolve_target
from fairbeam.logbook.models import LogbookEvent

BATCH = 500
KEEPALIVE_SECONDS = 15.0


def open_stream(
    session: Session,
    principal: Principal,
    investigation: str | None,
    instrument: str | None,
    last_event_id: str | None,
) -> tuple[Target, int]:
    """Check the caller may read the logbook; the sequence number to stream after."""
    target = resolve_target(session, investigation, instrument)
    check_read_logbook(principal, target.investigation, target.instrument_id, target.what)
    if last_event_id is not None and last_event_id.strip():
        value = last_event_id.strip()
        if not value.isdigit() or len(value) > 18:
            raise InvalidInput(f"Last-Event-ID must be a sequence number, not {value!r}")
        return target, int(value)
    logbook_id = find_logbook(session, target)
    if logbook_id is None:
        return target, 0
    last = session.scalar(
        select(LogbookEvent.sequence)
        .where(LogbookEvent.logbook_id == logbook_id)
        .order_by(LogbookEvent.sequence.desc())
        .limit(1)
    )
    return target, last or 0


def _newer(make_session: Callable[[], Session], target: Target, after: int) -> list[str]:
    """The server-sent messages of events after sequence ``after``, oldest first."""
    with make_session() as session:
        logbook_id = find_logbook(session, target)
        if logbook_id is None:
            return []
        rows = list(
            session.scalars(
                select(LogbookEvent)
                .where(LogbookEvent.logbook_id == logbook_id, LogbookEvent.sequence > after)
                .order_by(LogbookEvent.sequence)
                .limit(BATCH)
            )
        )
        messages = []
        for event in events_out(session, rows):
            kind = "deleted" if event.deleted else "event"
            data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"))
            messages.append(f"id: {event.sequence}\nevent: {kind}\ndata: {data}\n\n")
        return messages


async def stream_events(
    make_session: Callable[[], Session],
    target: Target,
    after: int,
    poll_seconds: float,
    disconnected: Callable[[], object],
) -> AsyncIterator[str]:
    """Server-sent messages of the logbook's new events until the client goes away."""
    yield "retry: 1000\n\n"
    quiet_since = time.monotonic()
    while True:
        if await disconnected():  # type: ignore[misc]
            return
        messages = await anyio.to_thread.run_sync(_newer, make_session, target, after)
        for message in messages:
            yield message
        if messages:
            after = int(messages[-1].split("\n", 1)[0].removeprefix("id: "))
            quiet_since = time.monotonic()
            if len(messages) == BATCH:
                continue
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await anyio.sleep(poll_seconds)
