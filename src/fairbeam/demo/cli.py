"""`fairbeam demo`: fill the catalogue with a demo facility and print its accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from fairbeam.cli.common import JsonOption, console, emit, errors, handles_errors, open_session
from fairbeam.cli.common import settings as load_settings
from fairbeam.demo.plan import Size

if TYPE_CHECKING:
    from fairbeam.demo.build import DemoSummary


def _accounts_table(summary: DemoSummary) -> Table:
    table = Table(title="demo accounts", title_justify="left")
    for column in ("username", "name", "role", "beamline", "password"):
        table.add_column(column)
    for account in summary.accounts:
        password = account.password or "[dim](API token)[/]"
        table.add_row(account.username, account.full_name, account.role, account.beamline, password)
    return table


def _describe(summary: DemoSummary) -> str:
    return (
        f"demo facility ({summary.size}): {summary.instruments} beamlines, "
        f"{summary.investigations} investigations ({summary.released} released, "
        f"{summary.embargoed} under embargo), {summary.datasets} datasets "
        f"({summary.raw} raw, {summary.processed} processed), {summary.files} files, "
        f"{summary.nexus_files} NeXus files on disk ({summary.nexus_bytes / 1e6:.1f} MB); "
        f"{summary.policy_passes} policy passes: {summary.archived} raw datasets archived "
        f"({summary.archive_bytes / 1e6:.1f} MB), {summary.deleted} datasets' data deleted "
        "(proposal types not kept)"
    )


@handles_errors
def demo(
    size: Size = typer.Option(Size.small, help="small: 40 investigations; large: 400."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the catalogue already holds investigations."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Fill an empty catalogue with a demo facility and print its accounts."""
    # Imported here: registration, h5py and numpy would slow every other command's start.
    from fairbeam.db import make_sessionmaker
    from fairbeam.demo.build import build_demo_facility, count_investigations

    config = load_settings()
    with open_session(config) as session:
        existing = count_investigations(session)
        if existing and if_empty:
            emit(
                {"skipped": True, "investigations": existing},
                as_json,
                f"the catalogue already holds {existing} investigation(s): no demo added",
            )
            return
        session.rollback()  # the demo writes through sessions of its own
        # Progress goes to stderr so that --json output stays clean.
        with Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=errors,
            transient=as_json,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            sessions = make_sessionmaker(session.get_bind().engine)
            summary = build_demo_facility(sessions, config, size, progress=report)
    if as_json:
        emit({"skipped": False, **summary.as_dict()}, True, "")
        return
    console.print(_describe(summary))
    console.print(_accounts_table(summary))
    console.print(
        "software accounts use API tokens: [bold]fairbeam token create bliss-id23[/]",
        soft_wrap=True,
    )
