"""`fairbeam instrument`: the facility's beamlines."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy import select

from fairbeam.access.policy import SYSTEM
from fairbeam.catalogue.models import Instrument
from fairbeam.catalogue.schemas import InstrumentIn
from fairbeam.catalogue.service import create_instrument, instrument_out
from fairbeam.cli.common import JsonOption, console, emit, fail, handles_errors, open_session

instrument_app = typer.Typer(help="Beamlines and instruments.", no_args_is_help=True)


@instrument_app.command("add")
@handles_errors
def instrument_add(
    name: str = typer.Argument(..., help="Short name, e.g. ID23."),
    technique: list[str] = typer.Option(
        [], "--technique", help="A technique it offers (repeatable)."
    ),
    full_name: str = typer.Option("", help="Full name, e.g. 'Macromolecular crystallography'."),
    description: str = typer.Option("", help="What the beamline does."),
    as_json: bool = JsonOption,
) -> None:
    """Create a beamline."""
    try:
        data = InstrumentIn(
            name=name, full_name=full_name, description=description, techniques=technique
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        fail(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", as_json)
        return
    with open_session() as session:
        instrument = create_instrument(session, SYSTEM, data)
        session.commit()
        out = instrument_out(instrument)
    emit(out.model_dump(), as_json, f"created instrument [bold]{out.name}[/]")


@instrument_app.command("list")
@handles_errors
def instrument_list(as_json: bool = JsonOption) -> None:
    """List the beamlines."""
    with open_session() as session:
        rows = [
            instrument_out(i) for i in session.scalars(select(Instrument).order_by(Instrument.name))
        ]
    if as_json:
        emit([r.model_dump() for r in rows], True, "")
        return
    table = Table("name", "full name", "techniques")
    for row in rows:
        table.add_row(row.name, row.full_name, ", ".join(row.techniques))
    console.print(table)
