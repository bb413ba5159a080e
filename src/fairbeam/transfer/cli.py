"""`fairbeam download`: a dataset or investigation fetched, resumed and verified."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from fairbeam.cli.common import JsonOption, console, emit, fail, settings
from fairbeam.client import Client, ClientError, Unreachable
from fairbeam.transfer.download import DownloadReport, target_path
from fairbeam.transfer.download import download as fetch


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], Callable[[int], None]] | None]:
    """A rich progress bar with rate and time left, or nothing for --json."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:

        def start(files: int, size: int) -> Callable[[int], None]:
            task = bar.add_task(f"{files} files", total=size)
            return lambda count: bar.advance(task, count)

        yield start


def summary(report: DownloadReport) -> str:
    """One line of what the download did."""
    rate = report.bytes / report.seconds / 1e6 if report.seconds else 0.0
    text = (
        f"{len(report.fetched)} fetched, {len(report.resumed)} resumed, "
        f"{len(report.skipped)} already there, {len(report.failed)} failed; "
        f"{report.bytes / 1e6:.1f} MB in {report.seconds:.1f} s ({rate:.1f} MB/s)"
    )
    if report.unverified:
        text += f"; {len(report.unverified)} without a checksum to verify"
    return text


def download(
    target: str = typer.Argument(..., help="Dataset id, investigation code, or portal URL."),
    to: Path = typer.Option(Path("."), "--to", help="Folder to download into."),
    parallel: int = typer.Option(4, "--parallel", min=1, max=64, help="Connections at once."),
    token: str | None = typer.Option(None, "--token", help="API token (default FAIRBEAM_TOKEN)."),
    url: str | None = typer.Option(None, "--url", help="Server (default: from the URL, or local)."),
    as_json: bool = JsonOption,
) -> None:
    """Download a dataset or investigation: parallel, resumable, every checksum verified."""
    try:
        server, _ = target_path(target)
    except ValueError as exc:
        fail(str(exc), as_json)
        return
    config = settings()
    base = url or server or f"http://{config.host}:{config.port}"
    token = token or os.environ.get("FAIRBEAM_TOKEN")
    try:
        with Client(base, token, timeout=120) as client, progress_bar(not as_json) as bar:
            report = fetch(client, target, to, parallel, bar)
    except (ClientError, Unreachable) as exc:
        fail(exc.detail, as_json)
        return
    emit(report.as_dict(), as_json, summary(report))
    for name, error in report.failed.items():
        if not as_json:
            console.print(f"[red]failed[/] {name}: {error}", highlight=False)
    if not report.ok:
        raise typer.Exit(code=1)
