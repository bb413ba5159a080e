"""`fairbeam user` and `fairbeam token`."""

from __future__ import annotations

import typer

from fairbeam.access.models import Role
from fairbeam.access.policy import SYSTEM
from fairbeam.access.schemas import UserPatch
from fairbeam.access.service import create_token, create_user, get_user
from fairbeam.access.tokens import find_token, revoke_token
from fairbeam.access.users import beamlines_of, update_user
from fairbeam.cli.common import JsonOption, emit, fail, handles_errors, open_session

user_app = typer.Typer(help="Accounts of people and software.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


@user_app.command("add")
@handles_errors
def user_add(
    name: str = typer.Argument(..., help="The username."),
    password: str = typer.Option(None, help="Password (none: the account logs in by token only)."),
    role: Role = typer.Option(Role.user, help="user, staff, manager or software."),
    instrument: list[str] = typer.Option(
        [], "--instrument", help="Beamline of a staff member or software (repeatable)."
    ),
    full_name: str = typer.Option("", help="The person's full name."),
    email: str = typer.Option(None, help="E-mail address (never public)."),
    orcid: str = typer.Option(None, help="ORCID iD."),
    as_json: bool = JsonOption,
) -> None:
    """Create a user."""
    with open_session() as session:
        user = create_user(
            session,
            name,
            password=password,
            role=role,
            full_name=full_name,
            email=email,
            orcid=orcid,
            instruments=instrument,
        )
        session.commit()
        data = {
            "id": user.id,
            "username": user.username,
            "role": user.role.value,
            "instruments": instrument,
        }
    emit(data, as_json, f"created {role.value} [bold]{name}[/]")


@user_app.command("set")
@handles_errors
def user_set(
    name: str = typer.Argument(..., help="The username."),
    role: Role = typer.Option(None, help="user, staff, manager or software."),
    instrument: list[str] = typer.Option(
        [],
        "--instrument",
        help="Every beamline of a staff member or software (repeatable; replaces them).",
    ),
    no_instruments: bool = typer.Option(
        False, "--no-instruments", help="Unbind the account from every beamline."
    ),
    active: bool = typer.Option(
        None, "--enable/--disable", help="Let the account log in, or not.", show_default=False
    ),
    as_json: bool = JsonOption,
) -> None:
    """Change a user's role, beamlines or whether it may log in (audited)."""
    if instrument and no_instruments:
        fail("give --instrument or --no-instruments, not both", as_json)
    # Typer has checked the values; unknown beamlines are named by update_user.
    change = UserPatch.model_construct(
        role=role,
        instruments=[] if no_instruments else (instrument or None),
        active=active,
    )
    with open_session() as session:
        user = update_user(session, SYSTEM, name, change)
        session.commit()
        beamlines = sorted(beamlines_of(session, user.id))
        data = {
            "id": user.id,
            "username": user.username,
            "role": user.role.value,
            "instruments": beamlines,
            "active": user.active,
        }
    state = "" if data["active"] else ", [red]disabled[/]"
    where = f" on {', '.join(beamlines)}" if beamlines else ""
    emit(data, as_json, f"[bold]{name}[/] is {data['role']}{where}{state}")


@token_app.command("create")
@handles_errors
def token_create(
    name: str = typer.Argument(..., help="The user or software the token acts for."),
    label: str = typer.Option("", help="What the token is for."),
    as_json: bool = JsonOption,
) -> None:
    """Print a new API token for a user (shown once, stored hashed)."""
    with open_session() as session:
        user = get_user(session, name)
        token = create_token(session, user, name=label or "cli")
        session.commit()
    emit({"username": name, "token": token}, as_json, token)


@token_app.command("revoke")
@handles_errors
def token_revoke(
    ref: str = typer.Argument(..., help="The token's id, its name, or the token itself."),
    user: str = typer.Option(None, "--user", help="Whose token, when giving a name."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke an API token (audited): it answers 401 from its next request on."""
    with open_session() as session:
        row, username = revoke_token(session, SYSTEM, find_token(session, ref, user).id)
        session.commit()
        data = {
            "id": row.id,
            "username": username,
            "name": row.name,
            "prefix": row.prefix,
            "revoked": row.revoked,
        }
    emit(data, as_json, f"revoked token {data['id']} [bold]{data['name']}[/] of {username}")
