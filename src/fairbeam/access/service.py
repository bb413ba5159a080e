"""Accounts, tokens and login."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken, InstrumentStaff, Role, User
from fairbeam.access.policy import ANONYMOUS, Principal
from fairbeam.access.security import hash_password, new_token, token_digest, verify_password
from fairbeam.audit.service import record
from fairbeam.catalogue.models import Instrument
from fairbeam.db.base import utcnow
from fairbeam.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthenticated

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MIN_PASSWORD = 8


def principal_of(session: Session, user: User) -> Principal:
    """The access-rule view of ``user``."""
    instruments = session.scalars(
        select(InstrumentStaff.instrument_id).where(InstrumentStaff.user_id == user.id)
    ).all()
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        instrument_ids=frozenset(instruments),
    )


def find_instruments(session: Session, names: list[str]) -> list[Instrument]:
    """Instruments by name; an unknown name is an error naming the known ones."""
    found = []
    for name in names:
        instrument = session.scalar(select(Instrument).where(Instrument.name == name))
        if instrument is None:
            known = ", ".join(session.scalars(select(Instrument.name).order_by(Instrument.name)))
            raise InvalidInput(f"instrument {name!r} does not exist; known: {known or 'none'}")
        found.append(instrument)
    return found


def create_user(
    session: Session,
    username: str,
    *,
    password: str | None = None,
    role: Role = Role.user,
    full_name: str = "",
    email: str | None = None,
    orcid: str | None = None,
    instruments: list[str] | None = None,
) -> User:
    """A new account; staff and software are bound to ``instruments``."""
    if not USERNAME.match(username):
        raise InvalidInput(
            f"username {username!r} is not valid: use letters, digits and . _ @ - "
            "(at most 100, starting with a letter or digit)"
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
    user = User(
        username=username,
        full_name=full_name or username,
        email=email,
        orcid=orcid,
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    for instrument in find_instruments(session, instruments or []):
        session.add(InstrumentStaff(instrument_id=instrument.id, user_id=user.id))
    record(
        session,
        "user.create",
        "user",
        user.id,
        username=username,
        role=role.value,
        instruments=sorted(instruments or []),
    )
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    """A user by name."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def create_token(
    session: Session, user: User, *, name: str = "", kind: str = "api", hours: float | None = None
) -> str:
    """A new bearer token for ``user``; the plain token is returned once, never stored."""
    token = new_token()
    row = ApiToken(
        user_id=user.id,
        name=name or kind,
        kind=kind,
        token_hash=token_digest(token),
        prefix=token[:10],
        expires=utcnow() + timedelta(hours=hours) if hours else None,
    )
    session.add(row)
    session.flush()
    if kind != "session":  # a login's session token is not an access-rule change
        record(
            session,
            "token.create",
            "user",
            user.id,
            username=user.username,
            token=row.id,
            name=row.name,
            prefix=row.prefix,
        )
    return token


# One query on every request: the token, its account and the account's beamlines; built
# once, as building a statement costs about as much as running it.
_TOKEN_HOLDER = (
    select(
        ApiToken.revoked,
        ApiToken.expires,
        User.id,
        User.username,
        User.role,
        User.active,
        InstrumentStaff.instrument_id,
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(InstrumentStaff, InstrumentStaff.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def authenticate(session: Session | Connection, token: str | None) -> Principal:
    """The caller behind a bearer token; no token is the anonymous caller (a bare
    connection will do: the check is one Core query)."""
    if not token:
        return ANONYMOUS
    return authenticate_digest(session, token_digest(token))


def authenticate_digest(session: Session | Connection, digest: str) -> Principal:
    """The caller behind the token whose SHA-256 is ``digest`` (download tickets)."""
    rows = session.execute(_TOKEN_HOLDER, {"digest": digest}).all()
    if not rows:
        raise Unauthenticated("the token is not valid")
    revoked, expires, user_id, username, role, active, _ = rows[0]
    if revoked or not active:
        raise Unauthenticated("the token has been revoked")
    if expires is not None and expires <= utcnow():
        raise Unauthenticated("the token has expired: log in again")
    return Principal(
        user_id=user_id,
        username=username,
        role=role,
        instrument_ids=frozenset(row[-1] for row in rows if row[-1] is not None),
    )


def login(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int,
    window_seconds: int,
    session_hours: float,
) -> tuple[str, User]:
    """Check a password and open a session token; too many failures lock the name a while."""
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is not None and user.last_failed_login is not None:
        elapsed = (now - user.last_failed_login).total_seconds()
        if elapsed >= window_seconds:
            user.failed_logins = 0
        elif user.failed_logins >= max_failures:
            wait = int(window_seconds - elapsed) + 1
            raise TooManyAttempts(
                f"too many failed logins for {username!r}; try again in {wait} s", wait
            )
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        if user is not None:
            user.failed_logins += 1
            user.last_failed_login = now
            session.commit()
        raise Unauthenticated("wrong username or password")
    user.failed_logins = 0
    user.last_failed_login = None
    token = create_token(session, user, name="login", kind="session", hours=session_hours)
    return token, user
