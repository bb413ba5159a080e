"""`fairbeam user` and `fairbeam token`."""

from __future__ import annotations

import typer

from fairbeam.access.models import Role
from fairbeam.access.service import create_token, create_user, get_user
from fairbeam.cli.common import JsonOption, emit, handles_errors, open_session

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
