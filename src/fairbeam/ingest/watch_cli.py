"""`fairbeam watch`: harvest acquisitions as they finish, until stopped."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from types import FrameType

import typer

from fairbeam.access.policy import SYSTEM
from fairbeam.cli.common import JsonOption, console, errors, handles_errors, settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.events import build_event_bus
from fairbeam.ingest.build import Hints
from fairbeam.ingest.service import Harvester, Outcome
from fairbeam.ingest.watch import Watcher


def _show(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(dataclasses.asdict(outcome)) + "\n")
        sys.stdout.flush()
        return
    when = f"{datetime.now():%H:%M:%S}"
    if outcome.status == "failed":
        errors.print(
            f"{when} [red]failed[/] {outcome.location}: {outcome.message}", highlight=False
        )
        return
    note = f" [yellow]({outcome.message})[/]" if outcome.message else ""
    console.print(
        f"{when} [green]{outcome.status}[/] dataset {outcome.dataset_id} {outcome.location}{note}",
        highlight=False,
        soft_wrap=True,
    )


@handles_errors
def watch(
    folders: list[Path] = typer.Argument(..., help="Folders where acquisitions are written."),
    settle: float = typer.Option(
        None,
        min=0,
        help="Seconds an acquisition stays unchanged before it is harvested "
        "(default FAIRBEAM_WATCH_SETTLE_SECONDS).",
    ),
    poll: bool = typer.Option(
        False, "--poll", help="Poll instead of inotify events (network file systems)."
    ),
    once: bool = typer.Option(
        False, "--once", help="Catch up, wait for what is being written to finish, then exit."
    ),
    investigation: str = typer.Option(
        None, help="Proposal code, where neither the file nor the path says."
    ),
    instrument: str = typer.Option(
        None, help="Beamline, where neither the file nor the path says."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Harvest every acquisition written under the folders, once it is finished."""
    config = settings()
    engine = make_engine(config.database_url)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()  # the batch being harvested is finished first

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sessions = make_sessionmaker(engine)
        harvester = Harvester(sessions, config, SYSTEM, build_event_bus(sessions))
        watcher = Watcher(
            harvester,
            folders,
            settle=config.watch_settle_seconds if settle is None else settle,
            poll=config.watch_poll_seconds,
            marker=config.watch_marker,
            hints=Hints(investigation=investigation, instrument=instrument),
            on_outcome=lambda outcome: _show(outcome, as_json),
        )
        if not as_json:
            how = "catching up" if once else ("polling" if poll else "watching")
            console.print(
                f"{how}: {', '.join(str(r) for r in watcher.roots)} "
                f"(settle {watcher.settle:g}s, every {watcher.poll:g}s)",
                highlight=False,
            )
        try:
            watcher.run(stop, once=once, polling=poll)
        except (KeyboardInterrupt, BrokenProcessPool):
            if not stop.is_set():
                raise
            # Ctrl-C reaches the reading processes too; nothing of the batch is kept
            # half-registered, and the next start harvests it again.
            errors.print("interrupted during a harvest; the next start takes it up again")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
    if once and watcher.failed:
        raise typer.Exit(code=1)
