"""The user list of the Manager page."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fairbeam.access.models import InstrumentStaff, Role, User
from fairbeam.access.policy import Principal, require_manager
from fairbeam.access.schemas import AccountOut
from fairbeam.catalogue.models import Instrument
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.search import like_pattern
from fairbeam.catalogue.service import paginate
from fairbeam.errors import InvalidInput


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
    return Page(
        items=[
            AccountOut(
                id=user.id,
                username=user.username,
                full_name=user.full_name,
                email=user.email,
                orcid=user.orcid,
                role=user.role,
                instruments=instruments[user.id],
                active=user.active,
                created=user.created,
            )
            for user in rows
        ],
        next=next_cursor,
    )
