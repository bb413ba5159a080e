"""Login, the caller's own account and tokens, and managers' changes to accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from fairbeam.access.models import User
from fairbeam.access.policy import Principal
from fairbeam.access.schemas import AccountOut, LoginIn, LoginOut, TokenOut, UserOut, UserPatch
from fairbeam.access.service import login, principal_of
from fairbeam.access.tokens import list_tokens, revoke_token, token_out
from fairbeam.access.users import account_out, beamlines_of, list_users, update_user
from fairbeam.api.deps import (
    CurrentPrincipal,
    Cursor,
    Limit,
    PathId,
    SessionDep,
    SettingsDep,
)
from fairbeam.catalogue.models import Instrument
from fairbeam.catalogue.schemas import Page

router = APIRouter(tags=["auth"])
Username = Annotated[str, Path(max_length=100, description="The account's username.")]


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


@router.patch("/users/{username}", response_model=AccountOut)
def patch_user(
    username: Username, body: UserPatch, session: SessionDep, principal: CurrentPrincipal
) -> AccountOut:
    """Change an account's `role`, `instruments` (its beamlines, replaced) or `active`
    (managers); each change is audited with what it was before."""
    user = update_user(session, principal, username, body)
    session.commit()
    return account_out(user, sorted(beamlines_of(session, user.id)))


@router.get("/tokens", response_model=Page[TokenOut])
def get_tokens(
    session: SessionDep,
    principal: CurrentPrincipal,
    user: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TokenOut]:
    """The caller's tokens, newest first, never their secrets; `kind` is `api` or
    `session`; a manager may name another account with `user`."""
    return list_tokens(session, principal, user, kind, limit, cursor)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def delete_token(token_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> TokenOut:
    """Revoke a token (its owner or a manager): it answers 401 from the next request on."""
    row, username = revoke_token(session, principal, token_id)
    session.commit()
    return token_out(row, username)
