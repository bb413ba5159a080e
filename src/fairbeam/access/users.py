"""The user list of the Manager page, and managers' changes to an account's access."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fairbeam.access.models import InstrumentStaff, Role, User
from fairbeam.access.policy import Principal, require_manager
from fairbeam.access.schemas import AccountOut, UserPatch
from fairbeam.access.service import find_instruments, get_user
from fairbeam.audit.service import record
from fairbeam.catalogue.models import Instrument
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.search import like_pattern
from fairbeam.catalogue.service import paginate
from fairbeam.errors import Conflict, InvalidInput

# The roles bound to beamlines: staff see theirs, software registers on them.
BOUND = (Role.staff, Role.software)


def list_users(
    session: Session,
    principal: Principal,
    role: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AccountOut]:
    """Accounts by username, with role and beamlines (managers only)."""
    require_manager(principal)
    query = select(User)
    if role is not None:
        if role not in Role.__members__:
            raise InvalidInput(f"role {role!r} is not known; use one of {', '.join(Role)}")
        query = query.where(User.role == Role(role))
    if q:
        pattern = like_pattern(q)
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    rows, next_cursor = paginate(session, query, User, (("username", "id"), False), limit, cursor)
    instruments: dict[int, list[str]] = defaultdict(list)
    if rows:
        bound = session.execute(
            select(InstrumentStaff.user_id, Instrument.name)
            .join(Instrument, Instrument.id == InstrumentStaff.instrument_id)
            .where(InstrumentStaff.user_id.in_([user.id for user in rows]))
            .order_by(Instrument.name)
        )
        for user_id, name in bound:
            instruments[user_id].append(name)
    return Page(items=[account_out(user, instruments[user.id]) for user in rows], next=next_cursor)


def account_out(user: User, instruments: list[str]) -> AccountOut:
    """The manager's view of an account."""
    return AccountOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        orcid=user.orcid,
        role=user.role,
        instruments=instruments,
        active=user.active,
        created=user.created,
    )


def beamlines_of(session: Session, user_id: int) -> dict[str, InstrumentStaff]:
    """The beamlines an account is bound to, by name."""
    rows = session.execute(
        select(Instrument.name, InstrumentStaff)
        .join(Instrument, Instrument.id == InstrumentStaff.instrument_id)
        .where(InstrumentStaff.user_id == user_id)
    )
    return {name: row for name, row in rows}


def update_user(session: Session, principal: Principal, username: str, change: UserPatch) -> User:
    """Change an account's role, beamlines or active flag (managers), each change audited
    with what it was before and after. A user or manager keeps no beamline; the last
    active manager stays one."""
    require_manager(principal)
    user = get_user(session, username)
    role = change.role or user.role
    active = user.active if change.active is None else change.active
    current = beamlines_of(session, user.id)
    if change.instruments is not None:
        wanted = {i.name: i.id for i in find_instruments(session, change.instruments)}
        if wanted and role not in BOUND:
            raise InvalidInput(
                f"only staff and software are bound to beamlines, and {username} would be a "
                f"{role.value}: give role staff or software, or no instruments"
            )
    elif role in BOUND:
        wanted = {name: row.instrument_id for name, row in current.items()}
    else:
        wanted = {}  # a user or manager keeps no beamline
    if user.role == Role.manager and user.active and (role != Role.manager or not active):
        others = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.manager, User.active.is_(True), User.id != user.id)
        )
        if not others:
            raise Conflict(f"{username} is the last active manager: make another manager first")

    def audit(action: str, **detail: object) -> None:
        record(
            session,
            action,
            "user",
            user.id,
            actor_id=principal.user_id,
            actor=principal.username or "system",
            username=username,
            **detail,
        )

    before = {"role": user.role.value, "active": user.active}
    after = {"role": role.value, "active": active}
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        audit(
            "user.update",
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
        user.role, user.active = role, active
    was, now = sorted(current), sorted(wanted)
    for name in sorted(set(wanted) - set(current)):
        session.add(InstrumentStaff(instrument_id=wanted[name], user_id=user.id))
        audit(
            "instrument_staff.add",
            instrument=name,
            before=was,
            after=now,
        )
    for name in sorted(set(current) - set(wanted)):
        session.delete(current[name])
        audit(
            "instrument_staff.remove",
            instrument=name,
            before=was,
            after=now,
        )
    session.flush()
    session.expire(user)
    return user
