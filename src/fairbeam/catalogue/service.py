"""Reading and creating catalogue entries, always through the access rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, not_, or_, select
from sqlalchemy.orm import Session, selectinload

from fairbeam.access.models import User
from fairbeam.access.policy import (
    Principal,
    check_create_investigation,
    check_manage_participants,
    released,
    require_login,
    require_manager,
)
from fairbeam.audit.service import record
from fairbeam.catalogue.models import (
    Instrument,
    Investigation,
    Participant,
    ParticipantRole,
)
from fairbeam.catalogue.schemas import (
    InstrumentIn,
    InstrumentOut,
    InvestigationIn,
    InvestigationOut,
    Moment,
    Page,
    ParticipantIn,
    ParticipantOut,
    row_id,
)
from fairbeam.catalogue.search import like_pattern
from fairbeam.config import Settings, get_settings
from fairbeam.db.base import as_utc, utcnow
from fairbeam.errors import Conflict, InvalidInput, NotFound
from fairbeam.pagination import after, decode_cursor, encode_cursor
from fairbeam.policy.archive import years_later
from fairbeam.policy.doi import ensure_investigation_doi
from fairbeam.policy.models import Doi

INVESTIGATION_SORTS = {
    "-start": (("start", "id"), True),
    "start": (("start", "id"), False),
    "code": (("code", "id"), False),
    "-code": (("code", "id"), True),
}
SCOPES = ("all", "mine", "open", "closed", "beamline")


def sort_key(
    sorts: Mapping[str, tuple[tuple[str, ...], bool]], sort: str
) -> tuple[tuple[str, ...], bool]:
    """The columns and direction of a named sort; an unknown name is an error."""
    if sort not in sorts:
        raise InvalidInput(f"sort {sort!r} is not known; use one of {', '.join(sorts)}")
    return sorts[sort]


def paginate(
    session: Session,
    query: Select[Any],
    model: Any,
    sort: tuple[tuple[str, ...], bool],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """One keyset page of ``query`` in the order of ``sort``, and the next page's cursor."""
    names, descending = sort
    columns = [getattr(model, name) for name in names]
    if cursor:
        query = query.where(after(columns, decode_cursor(cursor, len(columns)), descending))
    order = [c.desc() if descending else c.asc() for c in columns]
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)).unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([getattr(rows[-1], name) for name in names])


# Instruments ---------------------------------------------------------------


def instrument_out(instrument: Instrument) -> InstrumentOut:
    """The API view of an instrument."""
    return InstrumentOut(
        id=instrument.id,
        name=instrument.name,
        full_name=instrument.full_name,
        description=instrument.description,
        techniques=list(instrument.techniques or []),
    )


def list_instruments(session: Session, limit: int, cursor: str | None) -> Page[InstrumentOut]:
    """Every beamline, by name."""
    rows, next_cursor = paginate(
        session, select(Instrument), Instrument, (("name", "id"), False), limit, cursor
    )
    return Page(items=[instrument_out(r) for r in rows], next=next_cursor)


def create_instrument(session: Session, principal: Principal, data: InstrumentIn) -> Instrument:
    """A new beamline (managers only)."""
    require_manager(principal)
    if session.scalar(select(Instrument.id).where(Instrument.name == data.name)):
        raise Conflict(f"instrument {data.name!r} already exists")
    instrument = Instrument(
        name=data.name,
        full_name=data.full_name or data.name,
        description=data.description,
        techniques=data.techniques,
    )
    session.add(instrument)
    session.flush()
    record(
        session,
        "instrument.create",
        "instrument",
        instrument.id,
        actor_id=principal.user_id,
        actor=principal.username or "system",
        name=data.name,
    )
    return instrument


def get_instrument(session: Session, name: str) -> Instrument:
    """An instrument by name."""
    instrument = session.scalar(select(Instrument).where(Instrument.name == name))
    if instrument is None:
        raise NotFound(f"instrument {name!r} not found")
    return instrument


# Investigations ------------------------------------------------------------


def doi_states(session: Session, investigation_ids: list[int]) -> dict[int, str]:
    """The state of each investigation's DOI, for a page of investigations in one query."""
    if not investigation_ids:
        return {}
    rows = session.execute(
        select(Doi.investigation_id, Doi.state).where(Doi.investigation_id.in_(investigation_ids))
    )
    return {investigation_id: state for investigation_id, state in rows if investigation_id}


def investigation_out(
    investigation: Investigation, doi_state: str | None = None
) -> InvestigationOut:
    """The public view of an investigation (its high-level metadata is open to all)."""
    release = investigation.release_date
    return InvestigationOut(
        id=investigation.id,
        code=investigation.code,
        visit=investigation.visit,
        title=investigation.title,
        abstract=investigation.abstract,
        instrument=investigation.instrument.name,
        start=investigation.start,
        end=investigation.end,
        release_date=release,
        released=investigation.released,
        doi=investigation.doi,
        doi_state=doi_state,
        proposal_type=investigation.proposal_type,
        public=release is not None and release <= utcnow(),
        placeholder=investigation.placeholder,
        participants=[
            ParticipantOut(
                username=p.user.username,
                full_name=p.user.full_name,
                orcid=p.user.orcid,
                role=p.role,
            )
            for p in sorted(investigation.participants, key=lambda p: (p.role.value, p.user_id))
        ],
        dataset_count=investigation.dataset_count,
        file_count=investigation.file_count,
        volume_bytes=investigation.volume_bytes,
    )


@dataclass
class InvestigationFilters:
    """Filters of the investigation list."""

    instrument: str | None = None
    q: str | None = None
    scope: str = "all"
    start_after: Moment | None = None
    start_before: Moment | None = None
    # true: the placeholder proposals harvest made for data it could not place.
    placeholder: bool | None = None


def list_investigations(
    session: Session,
    principal: Principal,
    filters: InvestigationFilters,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[InvestigationOut]:
    """Investigations in a scope: high-level metadata is public, so all are listed."""
    query = select(Investigation).options(
        selectinload(Investigation.participants).joinedload(Participant.user)
    )
    if filters.scope not in SCOPES:
        raise InvalidInput(f"scope {filters.scope!r} is not known; use one of {', '.join(SCOPES)}")
    if filters.scope == "mine":
        if principal.user_id is None:
            return Page(items=[])
        query = query.where(
            Investigation.id.in_(
                select(Participant.investigation_id).where(Participant.user_id == principal.user_id)
            )
        )
    elif filters.scope == "open":
        query = query.where(released())
    elif filters.scope == "closed":
        query = query.where(not_(released()))
    elif filters.scope == "beamline":
        query = query.where(Investigation.instrument_id.in_(sorted(principal.instrument_ids)))
    if filters.instrument:
        query = query.where(
            Investigation.instrument_id == get_instrument(session, filters.instrument).id
        )
    if filters.q:
        pattern = like_pattern(filters.q)
        query = query.where(
            or_(
                func.lower(Investigation.code).like(pattern, escape="\\"),
                func.lower(Investigation.title).like(pattern, escape="\\"),
                func.lower(Investigation.abstract).like(pattern, escape="\\"),
            )
        )
    if filters.start_after:
        query = query.where(Investigation.start >= as_utc(filters.start_after))
    if filters.start_before:
        query = query.where(Investigation.start < as_utc(filters.start_before))
    if filters.placeholder is not None:
        query = query.where(Investigation.placeholder.is_(filters.placeholder))
    rows, next_cursor = paginate(
        session, query, Investigation, sort_key(INVESTIGATION_SORTS, sort), limit, cursor
    )
    states = doi_states(session, [r.id for r in rows])
    return Page(items=[investigation_out(r, states.get(r.id)) for r in rows], next=next_cursor)


def get_investigation(session: Session, ref: str | int) -> Investigation:
    """An investigation by id, or by code (its latest session)."""
    query = select(Investigation).options(
        selectinload(Investigation.participants).joinedload(Participant.user)
    )
    number = ref if isinstance(ref, int) else row_id(ref)
    if number is not None:
        found = session.scalar(query.where(Investigation.id == number))
    else:
        found = session.scalar(
            query.where(Investigation.code == ref).order_by(Investigation.start.desc()).limit(1)
        )
    if found is None:
        raise NotFound(f"investigation {ref} not found")
    return found


def default_release_date(
    settings: Settings, start: datetime, end: datetime | None, proposal_type: str
) -> datetime | None:
    """The end of the embargo: ``embargo_years`` after the investigation ends (or starts);
    none for proposal types whose data is not kept (it never becomes open)."""
    if proposal_type in settings.not_kept_proposal_types:
        return None
    return years_later(end or start, settings.embargo_years)


def create_investigation(
    session: Session,
    principal: Principal,
    data: InvestigationIn,
    settings: Settings | None = None,
) -> Investigation:
    """A new investigation with its participants (managers, or software on its beamline);
    with ``settings``, its DOI is minted (registered, not findable) at once."""
    instrument = session.scalar(select(Instrument).where(Instrument.name == data.instrument))
    if instrument is None:
        raise InvalidInput(f"instrument {data.instrument!r} does not exist")
    check_create_investigation(principal, instrument.id, instrument.name)
    if data.end is not None and data.end < data.start:
        raise InvalidInput("end is before start")
    if session.scalar(
        select(Investigation.id).where(
            Investigation.code == data.code, Investigation.visit == data.visit
        )
    ):
        raise Conflict(f"investigation {data.code!r} (visit {data.visit!r}) already exists")
    if data.doi and session.scalar(select(Investigation.id).where(Investigation.doi == data.doi)):
        raise Conflict(f"DOI {data.doi!r} already belongs to another investigation")
    users = {}
    usernames = {}
    for entry in data.participants:
        user = session.scalar(select(User).where(User.username == entry.username))
        if user is None:
            raise InvalidInput(f"participant {entry.username!r} is not a known user")
        if user.id in users:
            raise InvalidInput(f"participant {entry.username!r} is listed twice")
        users[user.id] = entry.role
        usernames[user.id] = entry.username
    investigation = Investigation(
        code=data.code,
        visit=data.visit,
        title=data.title,
        abstract=data.abstract,
        instrument_id=instrument.id,
        start=data.start,
        end=data.end,
        release_date=data.release_date
        or default_release_date(
            settings or get_settings(), data.start, data.end, data.proposal_type
        ),
        proposal_type=data.proposal_type,
        doi=data.doi,
    )
    session.add(investigation)
    session.flush()
    for user_id, role in users.items():
        session.add(Participant(investigation_id=investigation.id, user_id=user_id, role=role))
        record(
            session,
            "participant.add",
            "investigation",
            investigation.id,
            actor_id=principal.user_id,
            actor=principal.username or "system",
            username=usernames[user_id],
            role=role.value,
        )
    record(
        session,
        "investigation.create",
        "investigation",
        investigation.id,
        actor_id=principal.user_id,
        actor=principal.username or "system",
        code=data.code,
    )
    session.flush()
    session.expire(investigation)
    created = get_investigation(session, investigation.id)
    if settings is not None:
        ensure_investigation_doi(
            session,
            settings,
            created,
            actor=principal.username or "system",
            actor_id=principal.user_id,
        )
    return created


# Participants -----------------------------------------------------------------


def participant_out(participant: Participant) -> ParticipantOut:
    """The public view of one participant."""
    return ParticipantOut(
        username=participant.user.username,
        full_name=participant.user.full_name,
        orcid=participant.user.orcid,
        role=participant.role,
    )


def _participants(investigation: Investigation) -> dict[str, str]:
    return {p.user.username: p.role.value for p in investigation.participants}


def _audit_participant(
    session: Session,
    action: str,
    principal: Principal,
    investigation: Investigation,
    participant: Participant,
    before: dict[str, str],
) -> None:
    after = dict(before)
    if action == "participant.add":
        after[participant.user.username] = participant.role.value
    else:
        after.pop(participant.user.username)
    record(
        session,
        action,
        "investigation",
        investigation.id,
        actor_id=principal.user_id,
        actor=principal.username or "system",
        code=investigation.code,
        username=participant.user.username,
        role=participant.role.value,
        before=dict(sorted(before.items())),
        after=dict(sorted(after.items())),
    )


def add_participant(
    session: Session, principal: Principal, ref: str | int, data: ParticipantIn
) -> Participant:
    """Let a user take part in an investigation (managers; its principal investigator
    adds collaborators), audited with the participants before and after."""
    require_login(principal)
    investigation = get_investigation(session, ref)
    what = f"investigation {ref}"
    check_manage_participants(principal, investigation, what, data.role)
    user = session.scalar(select(User).where(User.username == data.username))
    if user is None:
        raise InvalidInput(f"username: user {data.username!r} does not exist")
    before = _participants(investigation)
    if user.username in before:
        raise Conflict(
            f"{user.username} already takes part in {investigation.code} as "
            f"{before[user.username]}: remove them first to change their role"
        )
    participant = Participant(investigation_id=investigation.id, user=user, role=data.role)
    session.add(participant)
    _audit_participant(session, "participant.add", principal, investigation, participant, before)
    session.flush()
    return participant


def remove_participant(
    session: Session, principal: Principal, ref: str | int, username: str
) -> None:
    """Take a user out of an investigation (managers; its principal investigator removes
    collaborators); the last principal investigator stays. Audited."""
    require_login(principal)
    investigation = get_investigation(session, ref)
    what = f"investigation {ref}"
    check_manage_participants(principal, investigation, what)
    found = [p for p in investigation.participants if p.user.username == username]
    if not found:
        raise NotFound(f"{username!r} does not take part in {investigation.code}")
    participant = found[0]
    check_manage_participants(principal, investigation, what, participant.role)
    leaders = [
        p for p in investigation.participants if p.role == ParticipantRole.principal_investigator
    ]
    if leaders == [participant]:
        raise Conflict(
            f"{username} is the only principal investigator of {investigation.code}: "
            "add another one first"
        )
    before = _participants(investigation)
    _audit_participant(session, "participant.remove", principal, investigation, participant, before)
    investigation.participants.remove(participant)  # delete-orphan: the row goes
    session.flush()
