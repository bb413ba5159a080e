"""`fairbeam ingest`; `fairbeam watch` lives in `watch_cli.py`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from fairbeam.access.policy import SYSTEM
from fairbeam.cli.common import JsonOption, console, emit, errors, handles_errors, settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.events import build_event_bus
from fairbeam.ingest.build import Hints
from fairbeam.ingest.service import Harvester, IngestReport


def _print_report(report: IngestReport) -> None:
    for failure in report.failures:
        message = failure.message or ""
        # One line per file, however long its path; a message naming its file says it once.
        line = message if message.startswith(failure.location) else f"{failure.location}: {message}"
        errors.print(f"[red]failed[/] {escape(line)}", highlight=False, soft_wrap=True)
    table = Table(title="harvest")
    for status in ("created", "updated", "unchanged", "failed"):
        table.add_column(status, justify="right")
    table.add_row(*(str(v) for v in report.summary().values()))
    console.print(table)


@handles_errors
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders to harvest."),
    investigation: str = typer.Option(
        None, help="Proposal code, where neither the file nor the path says."
    ),
    instrument: str = typer.Option(
        None, help="Beamline, where neither the file nor the path says."
    ),
    force: bool = typer.Option(False, help="Read again even what has not changed."),
    as_json: bool = JsonOption,
) -> None:
    """Harvest NeXus/HDF5 files or folders into the catalogue."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        sessions = make_sessionmaker(engine)
        harvester = Harvester(sessions, config, SYSTEM, build_event_bus(sessions))
        hints = Hints(investigation=investigation, instrument=instrument)
        if as_json:
            report = harvester.ingest(paths, hints, force=force)
        else:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("harvesting", total=None)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = harvester.ingest(paths, hints, force=force, progress=advance)
    finally:
        engine.dispose()
    if as_json:
        emit(
            {
                "summary": report.summary(),
                "outcomes": [dataclasses.asdict(o) for o in report.outcomes],
            },
            True,
            "",
        )
    else:
        _print_report(report)
    if report.failures:
        raise typer.Exit(code=1)
