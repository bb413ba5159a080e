"""What the auth API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fairbeam.access.models import Role


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No NUL characters: no database text holds them.
    username: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00]+$")
    password: str = Field(min_length=1, max_length=1000, pattern=r"^[^\x00]+$")


class UserOut(BaseModel):
    id: int | None
    username: str | None
    full_name: str
    role: Role | None
    orcid: str | None = None
    instruments: list[str]
    anonymous: bool


class LoginOut(BaseModel):
    token: str
    user: UserOut


class AccountOut(BaseModel):
    """A user as the data manager sees it (never the password hash)."""

    id: int
    username: str
    full_name: str
    email: str | None
    orcid: str | None
    role: Role
    instruments: list[str]
    active: bool
    created: datetime


class UserPatch(BaseModel):
    """What a manager changes of an account; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    instruments: (
        list[Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00]+$")]] | None
    ) = Field(
        default=None,
        max_length=100,
        description="Every beamline the staff member or software is bound to (replaces them).",
    )
    active: bool | None = Field(default=None, description="false: the account may not log in.")


class TokenOut(BaseModel):
    """An API token or login session, never its secret."""

    id: int
    username: str
    name: str
    kind: str = Field(description="`api` or `session` (a login).")
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created: datetime
    expires: datetime | None
    last_used: datetime | None
    revoked: bool
