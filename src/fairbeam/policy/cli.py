"""`fairbeam policy`: run the data policy's pass, or show its plan."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fairbeam.cli.common import JsonOption, console, emit, handles_errors, settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.db.base import utcnow
from fairbeam.errors import InvalidInput
from fairbeam.policy.models import PolicyPass
from fairbeam.policy.service import plan_pass, run_pass

policy_app = typer.Typer(
    help="The data policy: release, DOIs, archive, deletion.", no_args_is_help=True
)
AsOfOption = typer.Option(
    None, "--as-of", help="Act as on this day (YYYY-MM-DD; default today), to catch up or test."
)


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD day, or None; anything else is an error naming the value."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of {value!r} is not a date: use YYYY-MM-DD") from None


def pass_data(row: PolicyPass) -> dict[str, Any]:
    """A pass's record as JSON."""
    return {
        "id": row.id,
        "as_of": row.as_of.isoformat(),
        "status": row.status,
        "dry_run": row.dry_run,
        "trigger": row.trigger,
        "started": row.started.isoformat(),
        "finished": row.finished.isoformat() if row.finished else None,
        "summary": row.summary,
        "error": row.error,
    }


def _plan_table(as_of: date, steps: dict[str, Any]) -> Table:
    table = Table(title=f"plan as of {as_of}")
    table.add_column("step")
    table.add_column("count", justify="right")
    table.add_column("first ids")
    for name, step in steps.items():
        table.add_row(name, str(step["count"]), ", ".join(map(str, step["first"])))
    return table


def _table(title: str, counts: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    for name, value in counts.items():
        table.add_row(name, str(value))
    return table


@policy_app.command("run")
@handles_errors
def policy_run(
    as_of: str = AsOfOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; change nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Run a pass: release, DOIs, archive, deletion, queued restores; print what it did."""
    day = parse_day(as_of)
    config = settings()
    engine = make_engine(config.database_url)
    try:
        sessions = make_sessionmaker(engine)
        if dry_run:
            row = run_pass(sessions, config, day, dry_run=True)
            if as_json:
                emit(pass_data(row), True, "")
            else:
                console.print(f"dry run as of {row.as_of}: nothing changed")
                console.print(_plan_table(row.as_of, row.summary["plan"]))
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=max(total, done))
                bar.update(tasks[step], completed=done, total=max(total, done))

            row = run_pass(sessions, config, day, progress=progress)
    finally:
        engine.dispose()
    if as_json:
        emit(pass_data(row), True, "")
        return
    console.print(f"policy pass {row.id} as of {row.as_of}: {row.status}")
    console.print(_table("done", row.summary))


@policy_app.command("plan")
@handles_errors
def policy_plan(as_of: str = AsOfOption, as_json: bool = JsonOption) -> None:
    """What the next pass would do (records nothing)."""
    day = parse_day(as_of) or utcnow().date()
    config = settings()
    engine = make_engine(config.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            plan = plan_pass(session, config, day)
    finally:
        engine.dispose()
    if as_json:
        emit(plan.as_dict(), True, "")
    else:
        console.print(_plan_table(plan.as_of, plan.as_dict()["steps"]))
