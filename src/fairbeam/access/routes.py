"""Login and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from fairbeam.access.models import User
from fairbeam.access.policy import Principal
from fairbeam.access.schemas import AccountOut, LoginIn, LoginOut, UserOut
from fairbeam.access.service import login, principal_of
from fairbeam.access.users import list_users
from fairbeam.api.deps import CurrentPrincipal, Cursor, Limit, SessionDep, SettingsDep
from fairbeam.catalogue.models import Instrument
from fairbeam.catalogue.schemas import Page

router = APIRouter(tags=["auth"])


def _user_out(session: SessionDep, principal: Principal, user: User | None) -> UserOut:
    names = (
        sorted(
            session.scalars(
                select(Instrument.name).where(Instrument.id.in_(sorted(principal.instrument_ids)))
            )
        )
        if principal.instrument_ids
        else []
    )
    return UserOut(
        id=principal.user_id,
        username=principal.username,
        full_name=user.full_name if user else "",
        role=principal.role,
        orcid=user.orcid if user else None,
        instruments=names,
        anonymous=principal.anonymous,
    )


@router.post("/auth/login", response_model=LoginOut)
def post_login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> LoginOut:
    """Exchange a username and password for a session token."""
    token, user = login(
        session,
        body.username,
        body.password,
        max_failures=settings.login_max_failures,
        window_seconds=settings.login_window_seconds,
        session_hours=settings.session_hours,
    )
    session.commit()
    return LoginOut(token=token, user=_user_out(session, principal_of(session, user), user))


@router.get("/me", response_model=UserOut)
def get_me(session: SessionDep, principal: CurrentPrincipal) -> UserOut:
    """The caller, with role and instruments (anonymous callers get an anonymous record)."""
    user = session.get(User, principal.user_id) if principal.user_id else None
    return _user_out(session, principal, user)


@router.get("/users", response_model=Page[AccountOut])
def get_users(
    session: SessionDep,
    principal: CurrentPrincipal,
    role: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AccountOut]:
    """Accounts with role and beamlines, by username (managers); `role` and `q` filter."""
    return list_users(session, principal, role, q, limit, cursor)
