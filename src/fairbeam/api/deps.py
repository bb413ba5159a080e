"""Dependencies shared by every feature's routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal
from fairbeam.access.service import authenticate
from fairbeam.config import Settings
from fairbeam.db.base import MAX_BIGINT
from fairbeam.errors import InvalidInput, Unauthenticated


async def get_settings(request: Request) -> Settings:
    """The application's settings (this and the other dependencies without I/O are async
    so that they run on the event loop rather than each in a threadpool thread)."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request; writes commit explicitly in the route."""
    with request.app.state.sessionmaker() as session:
        yield session


async def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be `Bearer TOKEN`")
    return token.strip()


async def refuse_nul(request: Request) -> None:
    """Refuse a path or query holding a NUL character, which no database text holds."""
    # The raw path and query: building the request's URL costs more than the check.
    path, query = request.scope["path"], request.scope["query_string"]
    if "\x00" in path or (b"%00" in query and _nul_in(request.query_params.multi_items())):
        raise InvalidInput("the path and query may not contain a NUL character (%00)")


def _nul_in(items: list[tuple[str, str]]) -> bool:
    return any("\x00" in key + value for key, value in items)


def get_principal(
    session: Annotated[Session, Depends(get_session)],
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    """Who is calling: anonymous without a token, 401 with a bad one."""
    return authenticate(session, token)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (at most 1000).")]
Cursor = Annotated[str | None, Query(description="The `next` value of the previous page.")]
PathId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="A row id.")]
