"""Writing the logbook: new events (one or a batch, idempotent), new versions, hiding."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairbeam.access.models import Role
from fairbeam.access.policy import (
    Principal,
    check_read_logbook,
    check_write_logbook,
    require_login,
)
from fairbeam.catalogue.bulk import upsert_insert
from fairbeam.db.base import utcnow
from fairbeam.errors import Conflict, Forbidden, InvalidInput, NotFound
from fairbeam.logbook.links import Links, check_links
from fairbeam.logbook.logbooks import Target, ensure_logbook, resolve_target, target_of_event
from fairbeam.logbook.models import (
    AuthorKind,
    Category,
    EventType,
    Logbook,
    LogbookDay,
    LogbookEvent,
    LogbookEventVersion,
    LogbookTag,
    event_columns,
)
from fairbeam.logbook.rows import insert_events, insert_tags
from fairbeam.logbook.sanitise import plain_text, render
from fairbeam.logbook.schemas import EventEdit, EventIn, Posted


@dataclass
class Draft:
    """An event checked and rendered, waiting for its sequence number."""

    logbook_id: int
    key: str
    row: dict[str, Any]
    tags: list[str]
    idempotency_key: str | None


@dataclass
class _Resolver:
    """Logbooks already resolved in one request, so a batch checks each once."""

    session: Session
    principal: Principal
    targets: dict[tuple[str | None, str | None], Target] = field(default_factory=dict)
    logbooks: dict[str, int] = field(default_factory=dict)
    checked: set[tuple[str, str]] = field(default_factory=set)

    def target(self, data: EventIn) -> tuple[Target, int]:
        ref = (data.investigation, data.instrument)
        if ref not in self.targets:
            self.targets[ref] = resolve_target(self.session, data.investigation, data.instrument)
        target = self.targets[ref]
        if (target.key, data.type) not in self.checked:
            inv = target.investigation
            check_write_logbook(self.principal, inv, target.instrument_id, data.type, target.what)
            self.checked.add((target.key, data.type))
        if target.key not in self.logbooks:
            self.logbooks[target.key] = ensure_logbook(self.session, target)
        return target, self.logbooks[target.key]


def author_of(principal: Principal, software: str | None = None) -> dict[str, Any]:
    """The author columns for ``principal`` (software shows the program it names)."""
    if principal.role == Role.software:
        name = f"{principal.username} ({software})" if software else str(principal.username)
        return {"author_id": principal.user_id, "author_name": name, "author_kind": "software"}
    kind = AuthorKind.system if principal.user_id is None else AuthorKind.person
    return {
        "author_id": principal.user_id,
        "author_name": principal.username or "fairbeam",
        "author_kind": kind.value,
    }


def _content_columns(content: str, content_format: str, tags: list[str]) -> dict[str, Any]:
    html = render(content, content_format)
    words = plain_text(html)
    return {
        "content": content,
        "format": content_format,
        "html": html,
        "search_text": f"{words}\n{' '.join(tags)}" if tags else words,
    }


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def draft_event(resolver: _Resolver, data: EventIn, key: str | None) -> Draft:
    """Check and render one new event."""
    target, logbook_id = resolver.target(data)
    links = check_links(resolver.session, target, Links(data.dataset, data.sample, data.datafile))
    tags = _unique(data.tags)
    default = Category.info if data.type == EventType.notification else Category.comment
    row = {
        "logbook_id": logbook_id,
        "investigation_id": target.investigation.id if target.investigation else None,
        "instrument_id": target.instrument_id,
        "type": data.type.value,
        "category": (data.category or default).value,
        "tags": tags,
        "dataset_id": links.dataset,
        "sample_id": links.sample,
        "datafile_id": links.datafile,
        "idempotency_key": key,
        "version": 1,
        "deleted": False,
        **author_of(resolver.principal, data.software),
        **_content_columns(data.content, data.format.value, tags),
    }
    return Draft(logbook_id, target.key, row, tags, key)


def post_events(
    session: Session, principal: Principal, events: list[EventIn], key: str | None = None
) -> list[Posted]:
    """Write ``events`` in one transaction (the caller commits); a key given in the
    header names the batch, each event's own key wins."""
    resolver = _Resolver(session, principal)
    drafts = []
    for index, data in enumerate(events):
        item_key = data.idempotency_key or (
            None if key is None else (key if len(events) == 1 else f"{key}#{index}")
        )
        drafts.append(draft_event(resolver, data, item_key))
    return write_drafts(session, drafts, principal.user_id)


def write_drafts(session: Session, drafts: list[Draft], author_id: int | None) -> list[Posted]:
    """Give the drafts their sequence numbers and write them; a draft whose key was
    written before answers the event written then."""
    # A key repeated inside one batch answers the event its first use makes.
    first_use: dict[tuple[int, str], int] = {}
    twin_of: dict[int, int] = {}
    by_logbook: dict[int, list[int]] = defaultdict(list)
    for index, draft in enumerate(drafts):
        if draft.idempotency_key is not None:
            slot = (draft.logbook_id, draft.idempotency_key)
            if slot in first_use:
                twin_of[index] = first_use[slot]
                continue
            first_use[slot] = index
        by_logbook[draft.logbook_id].append(index)
    # Lock each logbook's counter, in one order so that two batches never deadlock;
    # from here until commit no other writer adds to these logbooks.
    for logbook_id in sorted(by_logbook):
        session.execute(
            update(Logbook)
            .where(Logbook.id == logbook_id)
            .values(next_sequence=Logbook.next_sequence)
        )
    found = _written_before(session, list(first_use), author_id)
    results: dict[int, Posted] = {}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    owners: list[int] = []
    for logbook_id in sorted(by_logbook):
        fresh = []
        for index in by_logbook[logbook_id]:
            known = found.get((logbook_id, drafts[index].idempotency_key or ""))
            if known is not None:
                results[index] = known
            else:
                fresh.append(index)
        if fresh:
            first = _allocate(session, logbook_id, [drafts[i] for i in fresh], now)
            for offset, index in enumerate(fresh):
                rows.append({**drafts[index].row, "sequence": first + offset, "created": now})
                owners.append(index)
    if rows:
        for row in rows:
            row["updated"] = now
        ids = insert_events(session, rows)
        tags: list[tuple[int, str]] = []
        for event_id, row, index in zip(ids, rows, owners, strict=True):
            results[index] = Posted(
                id=event_id, sequence=row["sequence"], logbook=drafts[index].key, created=True
            )
            tags.extend((event_id, tag) for tag in drafts[index].tags)
        insert_tags(session, tags)
    for index, twin in twin_of.items():
        results[index] = results[twin].model_copy(update={"created": False})
    return [results[index] for index in range(len(drafts))]


def _written_before(
    session: Session, slots: list[tuple[int, str]], author_id: int | None
) -> dict[tuple[int, str], Posted]:
    """Events already written under these (logbook, idempotency key) pairs."""
    found: dict[tuple[int, str], Posted] = {}
    by_logbook: dict[int, list[str]] = defaultdict(list)
    for logbook_id, key in slots:
        by_logbook[logbook_id].append(key)
    for logbook_id, keys in by_logbook.items():
        for start in range(0, len(keys), 500):
            rows = session.execute(
                select(
                    LogbookEvent.id,
                    LogbookEvent.sequence,
                    LogbookEvent.idempotency_key,
                    LogbookEvent.author_id,
                    LogbookEvent.investigation_id,
                    LogbookEvent.instrument_id,
                ).where(
                    LogbookEvent.logbook_id == logbook_id,
                    LogbookEvent.idempotency_key.in_(keys[start : start + 500]),
                )
            ).all()
            for event_id, sequence, used, author, investigation_id, instrument_id in rows:
                if author != author_id:
                    raise Conflict(
                        f"idempotency key {used!r} was already used by another author in this "
                        "logbook; use a key of your own"
                    )
                logbook = (
                    f"investigation:{investigation_id}"
                    if investigation_id is not None
                    else f"instrument:{instrument_id}"
                )
                found[(logbook_id, str(used))] = Posted(
                    id=event_id, sequence=sequence, logbook=logbook, created=False
                )
    return found


def _allocate(session: Session, logbook_id: int, drafts: list[Draft], now: datetime) -> int:
    """Take the next ``len(drafts)`` sequence numbers of a logbook; the first one."""
    count = len(drafts)
    notes = sum(1 for d in drafts if d.row["type"] == EventType.notification)
    following = session.execute(
        update(Logbook)
        .where(Logbook.id == logbook_id)
        .values(
            next_sequence=Logbook.next_sequence + count,
            events=Logbook.events + count,
            annotations=Logbook.annotations + (count - notes),
            notifications=Logbook.notifications + notes,
            last_event=now,
        )
        .returning(Logbook.next_sequence)
    ).scalar_one()
    statement = upsert_insert(session, LogbookDay).values(
        logbook_id=logbook_id, day=now.date(), annotations=count - notes, notifications=notes
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["logbook_id", "day"],
            set_={
                "annotations": LogbookDay.annotations + statement.excluded.annotations,
                "notifications": LogbookDay.notifications + statement.excluded.notifications,
            },
        )
    )
    return int(following) - count


def post_with_retry(
    session: Session, principal: Principal, events: list[EventIn], key: str | None = None
) -> list[Posted]:
    """``post_events`` and commit; a clash with a concurrent retry of the same key is
    answered with the event that retry wrote."""
    for attempt in range(3):
        try:
            posted = post_events(session, principal, events, key)
            session.commit()
            return posted
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# Reading one event, new versions, hiding -----------------------------------


def get_event_row(
    session: Session, principal: Principal, event_id: int, *, deleted: bool = False
) -> tuple[LogbookEvent, Target]:
    """An event the caller may read (a hidden one only when ``deleted``), and its logbook."""
    event = session.get(LogbookEvent, event_id)
    what = f"logbook event {event_id}"
    if event is None or (event.deleted and not deleted):
        raise NotFound(f"{what} not found")
    target = target_of_event(session, event)
    check_read_logbook(principal, target.investigation, target.instrument_id, what)
    return event, target


def check_edit(principal: Principal, event: LogbookEvent, target: Target) -> None:
    """Changing an event: whoever may write such events there (software: its own)."""
    what = f"logbook event {event.id}"
    check_write_logbook(principal, target.investigation, target.instrument_id, event.type, what)
    if principal.role == Role.software and event.author_id != principal.user_id:
        raise Forbidden(
            f"software may only change its own events; event {event.id} is by {event.author_name}"
        )


def expected_version(body_version: int | None, if_match: str | None) -> int:
    """The version an edit started from: the body's, else the If-Match header's."""
    if body_version is not None:
        return body_version
    if if_match:
        value = if_match.strip().removeprefix("W/").strip('"')
        if value.isdigit():
            return int(value)
        raise InvalidInput(f'If-Match must be an event version such as "3", not {if_match!r}')
    raise InvalidInput("send the version you edited: `version` in the body or If-Match")


def _new_version(
    session: Session, event: LogbookEvent, expected: int, changes: dict[str, Any]
) -> None:
    """Keep the event as it reads in its versions, then change it; 409 when it moved on."""
    if expected != event.version:
        raise Conflict(
            f"logbook event {event.id} is at version {event.version}, the edit started "
            f"from version {expected}; read it again and redo the edit"
        )
    session.execute(
        insert(LogbookEventVersion).values(
            event_id=event.id, version=event.version, written=event.updated, **event_columns(event)
        )
    )
    done = session.execute(
        update(LogbookEvent)
        .where(LogbookEvent.id == event.id, LogbookEvent.version == expected)
        .values(version=expected + 1, updated=utcnow(), **changes)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"logbook event {event.id} was changed meanwhile; read it again")


def edit_event(
    session: Session, principal: Principal, event_id: int, data: EventEdit, if_match: str | None
) -> LogbookEvent:
    """Write a new version of an event; the old one stays in its history."""
    require_login(principal)
    event, target = get_event_row(session, principal, event_id)
    check_edit(principal, event, target)
    expected = expected_version(data.version, if_match)
    tags = _unique(data.tags) if data.tags is not None else list(event.tags or [])
    given = data.model_fields_set
    links = check_links(
        session,
        target,
        Links(
            data.dataset if "dataset" in given else event.dataset_id,
            data.sample if "sample" in given else event.sample_id,
            data.datafile if "datafile" in given else event.datafile_id,
        ),
    )
    changes = {
        **author_of(principal),
        **_content_columns(data.content, (data.format or event.format), tags),
        "category": (data.category or event.category),
        "tags": tags,
        "dataset_id": links.dataset,
        "sample_id": links.sample,
        "datafile_id": links.datafile,
    }
    _new_version(session, event, expected, changes)
    session.execute(delete(LogbookTag).where(LogbookTag.event_id == event.id))
    if tags:
        session.execute(insert(LogbookTag), [{"event_id": event.id, "tag": t} for t in tags])
    session.expire(event)
    return event


def hide_event(session: Session, principal: Principal, event_id: int, if_match: str | None) -> None:
    """Hide an event from the logbook; its history keeps every version."""
    require_login(principal)
    event, target = get_event_row(session, principal, event_id)
    check_edit(principal, event, target)
    expected = expected_version(None, if_match) if if_match else event.version
    _new_version(session, event, expected, {**author_of(principal), "deleted": True})
