"""The access rules, in one place: a check for one object and filters for queries.

- Anyone sees every investigation's high-level metadata, and the datasets and
  files of released investigations.
- A participant sees their investigations' datasets and files.
- Beamline staff see their beamlines' datasets and files.
- Managers see everything.
- Software sees and registers on the beamlines it is bound to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true

from fairbeam.access.models import Role
from fairbeam.catalogue.models import Dataset, Investigation, Participant, ParticipantRole
from fairbeam.db.base import utcnow
from fairbeam.errors import Forbidden, NotFound, Unauthenticated


@dataclass(frozen=True)
class Principal:
    """Who is asking: an anonymous visitor, a person, or a piece of software."""

    user_id: int | None = None
    username: str | None = None
    role: Role | None = None
    instrument_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        """True for a caller without a valid token."""
        return self.role is None

    @property
    def is_manager(self) -> bool:
        """True for the facility's data managers."""
        return self.role == Role.manager


ANONYMOUS = Principal()
# fairbeam's own processes (harvest run by the operator, the policy pass) act with a
# manager's rights under this name.
SYSTEM = Principal(username="fairbeam", role=Role.manager)


def require_login(principal: Principal) -> Principal:
    """Refuse anonymous callers with 401."""
    if principal.anonymous:
        raise Unauthenticated("this needs a login: send `Authorization: Bearer TOKEN`")
    return principal


def require_manager(principal: Principal) -> None:
    """Refuse anyone but a manager."""
    require_login(principal)
    if not principal.is_manager:
        raise Forbidden("only a manager may do this")


def require_staff(principal: Principal) -> None:
    """Refuse anyone but beamline staff and managers."""
    require_login(principal)
    if principal.role not in (Role.staff, Role.manager):
        raise Forbidden("only beamline staff and managers may do this")


def require_registrar(principal: Principal) -> None:
    """Refuse anyone who may not register data on any beamline."""
    require_login(principal)
    if principal.role not in (Role.staff, Role.manager, Role.software):
        raise Forbidden("only beamline staff, managers and control software may register data")


def released(now: datetime | None = None) -> ColumnElement[bool]:
    """Investigations whose embargo has ended."""
    return and_(
        Investigation.release_date.is_not(None), Investigation.release_date <= (now or utcnow())
    )


def data_filter(
    principal: Principal,
    instrument_col: Any = None,
    investigation_col: Any = None,
    *,
    joined: bool = True,
) -> ColumnElement[bool]:
    """A WHERE clause for rows whose data the caller may see.

    The query must join Investigation; ``instrument_col`` and ``investigation_col``
    default to the investigation's own columns. With ``joined=False`` it needs no
    join: the release is looked up from ``investigation_col``.
    """
    if principal.is_manager:
        return true()
    instrument_col = Investigation.instrument_id if instrument_col is None else instrument_col
    investigation_col = Investigation.id if investigation_col is None else investigation_col
    clauses: list[ColumnElement[bool]] = [
        released() if joined else investigation_col.in_(select(Investigation.id).where(released()))
    ]
    if principal.user_id is not None:
        mine = select(Participant.investigation_id).where(Participant.user_id == principal.user_id)
        clauses.append(investigation_col.in_(mine))
    if principal.instrument_ids:
        clauses.append(instrument_col.in_(sorted(principal.instrument_ids)))
    return or_(*clauses)


def dataset_filter(principal: Principal, *, joined: bool = True) -> ColumnElement[bool]:
    """A WHERE clause for datasets the caller may see (the query joins Investigation,
    unless ``joined=False``)."""
    return data_filter(principal, Dataset.instrument_id, Dataset.investigation_id, joined=joined)


def sees_whole_beamlines(principal: Principal, instrument_ids: set[int]) -> bool:
    """True when the caller may see every dataset of these beamlines (managers, and
    staff or software bound to all of them), so a query limited to them needs no
    per-row check."""
    return (
        principal.is_manager or bool(instrument_ids) and instrument_ids <= principal.instrument_ids
    )


def is_participant(principal: Principal, investigation: Investigation) -> bool:
    """True when the caller takes part in ``investigation``."""
    return principal.user_id is not None and any(
        p.user_id == principal.user_id for p in investigation.participants
    )


def may_see_data(principal: Principal, investigation: Investigation) -> bool:
    """True when the caller may see the datasets and files of ``investigation``."""
    if principal.is_manager or investigation.instrument_id in principal.instrument_ids:
        return True
    release = investigation.release_date
    if release is not None and release <= utcnow():
        return True
    return is_participant(principal, investigation)


def check_data(principal: Principal, investigation: Investigation, what: str) -> None:
    """404 when the caller may not see the data of ``investigation``."""
    if not may_see_data(principal, investigation):
        raise NotFound(f"{what} not found")


def check_download(principal: Principal, what: str, needs_login: bool = True) -> None:
    """Bytes of data need a registered identity, open data too (the data policy's rule 3),
    unless the facility says otherwise (``open_data_needs_login``).

    Call it once the data was found visible, so what a caller may not see stays 404
    (anonymous callers only ever see open data).
    """
    if principal.anonymous and needs_login:
        raise Unauthenticated(
            f"downloading {what} needs a login, even for open data: "
            "register an identity and send `Authorization: Bearer TOKEN`"
        )


def check_register(principal: Principal, instrument_id: int, instrument_name: str) -> None:
    """Registering data on a beamline: managers, its staff, software bound to it."""
    require_login(principal)
    if principal.is_manager:
        return
    if principal.role in (Role.staff, Role.software) and instrument_id in principal.instrument_ids:
        return
    raise Forbidden(
        f"{principal.username} may not register data on instrument {instrument_name!r}; "
        "only managers, its staff and software bound to it may"
    )


def check_create_investigation(principal: Principal, instrument_id: int, name: str) -> None:
    """Creating investigations: managers, and software bound to the beamline."""
    require_login(principal)
    if principal.is_manager:
        return
    if principal.role == Role.software and instrument_id in principal.instrument_ids:
        return
    raise Forbidden(
        f"{principal.username} may not create investigations on {name!r}; "
        "only managers and software bound to it may"
    )


# Embargo extensions ----------------------------------------------------------
# The principal investigator asks to keep the data closed longer (or a manager on their
# behalf); managers decide.


def is_principal_investigator(principal: Principal, investigation: Investigation) -> bool:
    """True when the caller is a principal investigator of ``investigation``."""
    return principal.user_id is not None and any(
        p.user_id == principal.user_id and p.role == ParticipantRole.principal_investigator
        for p in investigation.participants
    )


def check_ask_extension(principal: Principal, investigation: Investigation, what: str) -> None:
    """Asking for an embargo extension: 401 anonymous, 404 unseen, 403 not the PI."""
    require_login(principal)
    check_data(principal, investigation, what)
    if principal.is_manager or is_principal_investigator(principal, investigation):
        return
    raise Forbidden(
        f"only the principal investigator of {what} (or a manager) may ask to extend its embargo"
    )


def extension_filter(principal: Principal, investigation_col: Any, requester_col: Any) -> Any:
    """Embargo extension requests the caller sees: managers all, others those they asked
    for and those on investigations they lead."""
    require_login(principal)
    if principal.is_manager:
        return true()
    led = select(Participant.investigation_id).where(
        Participant.user_id == principal.user_id,
        Participant.role == ParticipantRole.principal_investigator,
    )
    return or_(requester_col == principal.user_id, investigation_col.in_(led))


# Participants -----------------------------------------------------------------
# Managers add and remove anyone; the principal investigator shares the data with
# collaborators of their choosing (and may take that back). The proposal's own people
# (principal and co-investigators, local contacts) are the facility's to change.


def check_manage_participants(
    principal: Principal,
    investigation: Investigation,
    what: str,
    role: ParticipantRole | None = None,
) -> None:
    """Adding or removing a participant (of ``role``, once known): 401 anonymous, 404
    unseen, 403 neither a manager nor (for collaborators) the principal investigator."""
    require_login(principal)
    check_data(principal, investigation, what)
    if principal.is_manager:
        return
    if not is_principal_investigator(principal, investigation):
        raise Forbidden(
            f"only managers and the principal investigator of {what} may change its participants"
        )
    if role is not None and role != ParticipantRole.collaborator:
        raise Forbidden(
            f"the principal investigator adds and removes collaborators; only a manager may "
            f"change a {role.value.replace('_', ' ')}"
        )


# Logbooks ------------------------------------------------------------------
# Whoever may read an investigation's data reads its logbook; its participants, the
# beamline's staff and managers write to it. A beamline's own logbook belongs to its
# staff (and managers). Software bound to a beamline posts notifications to its
# investigations' logbooks and to the beamline logbook.


def may_read_logbook(
    principal: Principal, investigation: Investigation | None, instrument_id: int
) -> bool:
    """True when the caller may read the logbook of ``investigation`` (or of the beamline)."""
    if investigation is not None:
        return may_see_data(principal, investigation)
    return principal.is_manager or instrument_id in principal.instrument_ids


def check_read_logbook(
    principal: Principal, investigation: Investigation | None, instrument_id: int, what: str
) -> None:
    """404 when the caller may not read this logbook."""
    if not may_read_logbook(principal, investigation, instrument_id):
        raise NotFound(f"{what} not found")


def check_write_logbook(
    principal: Principal,
    investigation: Investigation | None,
    instrument_id: int,
    event_type: str,
    what: str,
) -> None:
    """Writing an event of ``event_type``: 401 anonymous, 404 unseen, 403 read-only."""
    require_login(principal)
    check_read_logbook(principal, investigation, instrument_id, what)
    if principal.is_manager:
        return
    bound = instrument_id in principal.instrument_ids
    if principal.role == Role.software:
        if bound and event_type == "notification":
            return
        raise Forbidden(
            f"software {principal.username} may only post notifications to the logbooks "
            "of the beamlines it is bound to"
        )
    if principal.role == Role.staff and bound:
        return
    if investigation is not None and is_participant(principal, investigation):
        return
    raise Forbidden(
        f"{principal.username} may read {what} but not write to it; its participants, "
        "the beamline's staff and managers may"
    )


def logbook_event_filter(
    principal: Principal, investigation_col: Any, instrument_col: Any
) -> ColumnElement[bool]:
    """A WHERE clause for logbook events the caller may read (the query outer-joins
    Investigation on ``investigation_col``)."""
    if principal.is_manager:
        return true()
    beamline = and_(
        investigation_col.is_(None), instrument_col.in_(sorted(principal.instrument_ids))
    )
    return or_(
        and_(
            investigation_col.is_not(None),
            data_filter(principal, instrument_col, investigation_col),
        ),
        beamline,
    )


def logbook_stats_filter(principal: Principal, instrument_col: Any) -> ColumnElement[bool]:
    """Logbook statistics: managers see every beamline's, staff their beamlines'."""
    require_staff(principal)
    if principal.is_manager:
        return true()
    mine: ColumnElement[bool] = instrument_col.in_(sorted(principal.instrument_ids))
    return mine
