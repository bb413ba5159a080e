"""Embargo extensions: the principal investigator asks, a manager decides, the new
release date applies on approval; both steps are audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.access.policy import (
    Principal,
    check_ask_extension,
    extension_filter,
    require_login,
    require_manager,
)
from fairbeam.audit.service import record
from fairbeam.catalogue.models import Investigation
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.service import get_investigation, paginate
from fairbeam.db.base import utcnow
from fairbeam.errors import Conflict, InvalidInput, NotFound
from fairbeam.policy.models import EmbargoExtension, RequestStatus
from fairbeam.policy.schemas import DecisionIn, ExtensionIn, ExtensionOut


def is_released(investigation: Investigation, now: datetime) -> bool:
    """True once the embargo has ended (the pass may not have recorded it yet)."""
    release = investigation.release_date
    return investigation.released is not None or (release is not None and release <= now)


def request_extension(
    session: Session,
    principal: Principal,
    ref: str | int,
    data: ExtensionIn,
    now: datetime | None = None,
) -> EmbargoExtension:
    """A principal investigator's request for a later release date (one pending at a time);
    ``now`` is the policy's clock (simulated years in tests)."""
    now = now or utcnow()
    require_login(principal)
    investigation = get_investigation(session, ref)
    what = f"investigation {investigation.code}"
    check_ask_extension(principal, investigation, what)
    if is_released(investigation, now):
        when = investigation.released or investigation.release_date
        raise Conflict(f"{what} was released on {when:%Y-%m-%d}; open data cannot be closed again")
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput("reason: say why the data should stay closed longer")
    current = investigation.release_date
    if current is not None and data.release_date <= current:
        raise InvalidInput(
            f"release_date {data.release_date:%Y-%m-%d} must be later than the current "
            f"release date {current:%Y-%m-%d}"
        )
    if data.release_date <= now:
        raise InvalidInput(f"release_date {data.release_date:%Y-%m-%d} must be in the future")
    # Lock the investigation (PostgreSQL) so two requests cannot both pass the check below.
    session.execute(
        select(Investigation.id).where(Investigation.id == investigation.id).with_for_update()
    )
    pending = session.scalar(
        select(EmbargoExtension.id).where(
            EmbargoExtension.investigation_id == investigation.id,
            EmbargoExtension.status == RequestStatus.pending,
        )
    )
    if pending is not None:
        raise Conflict(
            f"{what} already has a pending embargo extension request ({pending}); "
            "wait for a manager's decision"
        )
    extension = EmbargoExtension(
        investigation_id=investigation.id,
        requested_by=principal.user_id,
        reason=reason,
        previous_release=current,
        requested_release=data.release_date,
        status=RequestStatus.pending,
        created=now,
    )
    session.add(extension)
    session.flush()
    record(
        session,
        "embargo_extension.request",
        "investigation",
        investigation.id,
        actor_id=principal.user_id,
        actor=principal.username or "system",
        extension=extension.id,
        release_date=data.release_date.isoformat(),
        previous_release_date=current.isoformat() if current else None,
        reason=reason,
    )
    return extension


def get_extension(session: Session, principal: Principal, extension_id: int) -> EmbargoExtension:
    """One request, for whoever may see it (404 otherwise)."""
    found = session.scalar(
        select(EmbargoExtension).where(
            EmbargoExtension.id == extension_id,
            extension_filter(
                principal, EmbargoExtension.investigation_id, EmbargoExtension.requested_by
            ),
        )
    )
    if found is None:
        raise NotFound(f"embargo extension request {extension_id} not found")
    return found


def decide_extension(
    session: Session,
    principal: Principal,
    extension_id: int,
    data: DecisionIn,
    now: datetime | None = None,
) -> EmbargoExtension:
    """A manager approves (the requested date becomes the release date) or refuses."""
    require_manager(principal)
    extension = session.scalar(
        select(EmbargoExtension).where(EmbargoExtension.id == extension_id).with_for_update()
    )
    if extension is None:
        raise NotFound(f"embargo extension request {extension_id} not found")
    if extension.status != RequestStatus.pending:
        raise Conflict(
            f"embargo extension request {extension_id} was already {extension.status} "
            f"on {extension.decided:%Y-%m-%d}"
        )
    investigation = get_investigation(session, extension.investigation_id)
    if data.approve and investigation.released is not None:
        raise Conflict(
            f"investigation {investigation.code} was released on "
            f"{investigation.released:%Y-%m-%d}; refuse the request instead"
        )
    extension.status = RequestStatus.approved if data.approve else RequestStatus.refused
    extension.decided_by = principal.user_id
    extension.decided = now or utcnow()
    extension.decision_note = data.note.strip()
    previous = investigation.release_date
    if data.approve:
        investigation.release_date = extension.requested_release
    record(
        session,
        "embargo_extension." + ("approve" if data.approve else "refuse"),
        "investigation",
        investigation.id,
        actor_id=principal.user_id,
        actor=principal.username or "system",
        extension=extension.id,
        release_date=investigation.release_date.isoformat() if investigation.release_date else None,
        previous_release_date=previous.isoformat() if previous else None,
        note=extension.decision_note,
    )
    session.flush()
    return extension


@dataclass
class ExtensionFilters:
    """Filters of the request list."""

    status: str | None = None
    investigation: str | None = None


def list_extensions(
    session: Session,
    principal: Principal,
    filters: ExtensionFilters,
    limit: int,
    cursor: str | None,
) -> Page[ExtensionOut]:
    """Requests the caller may see, newest first."""
    query = select(EmbargoExtension).where(
        extension_filter(
            principal, EmbargoExtension.investigation_id, EmbargoExtension.requested_by
        )
    )
    if filters.status is not None:
        if filters.status not in RequestStatus.__members__:
            known = ", ".join(RequestStatus.__members__)
            raise InvalidInput(f"status {filters.status!r} is not known; use one of {known}")
        query = query.where(EmbargoExtension.status == filters.status)
    if filters.investigation is not None:
        investigation = get_investigation(session, filters.investigation)
        query = query.where(EmbargoExtension.investigation_id == investigation.id)
    rows, next_cursor = paginate(
        session, query, EmbargoExtension, (("created", "id"), True), limit, cursor
    )
    return Page(items=extensions_out(session, rows), next=next_cursor)


def extensions_out(session: Session, rows: list[EmbargoExtension]) -> list[ExtensionOut]:
    """The API view of requests, with names looked up once per page."""
    user_ids = {i for r in rows for i in (r.requested_by, r.decided_by) if i is not None}
    names: dict[int, str] = {}
    if user_ids:
        query = select(User.id, User.username).where(User.id.in_(user_ids))
        names = {user_id: name for user_id, name in session.execute(query)}
    investigation_ids = {r.investigation_id for r in rows}
    codes: dict[int, str] = {}
    if investigation_ids:
        query = select(Investigation.id, Investigation.code).where(
            Investigation.id.in_(investigation_ids)
        )
        codes = {investigation_id: code for investigation_id, code in session.execute(query)}
    return [
        ExtensionOut(
            id=r.id,
            investigation=r.investigation_id,
            code=codes.get(r.investigation_id, ""),
            requested_by=names.get(r.requested_by) if r.requested_by else None,
            reason=r.reason,
            previous_release_date=r.previous_release,
            release_date=r.requested_release,
            status=r.status,
            decided_by=names.get(r.decided_by) if r.decided_by else None,
            decided=r.decided,
            note=r.decision_note,
            created=r.created,
        )
        for r in rows
    ]
