"""Harvest speed: fairbeam's `fairbeam ingest` against Tiled's `tiled register`, same files.

Writes M datasets as a beamline would (Bliss multi-scan master files, counters,
Lima detector frames in external files) into a temporary data root, then times
in the same run, on the same warm files:

- Tiled: `tiled register` of the whole data root into a `tiled serve catalog`
  server on loopback (Tiled lives in bench/.peers/tiled, created when missing);
- fairbeam: `fairbeam ingest DATA_ROOT --json` into a fresh SQLite catalogue,
  with checksums and without, and optionally on PostgreSQL (`--postgres-url`).

    .venv/bin/python bench/harvest.py --quick           # 50 datasets, to try it
    .venv/bin/python bench/harvest.py                   # 1,000 datasets, the quoted figure
    .venv/bin/python bench/harvest.py --postgres-url postgresql+psycopg://postgres@127.0.0.1/postgres

Prints a table and writes the figures as JSON to bench/results/. Besides wall time it
counts CPU seconds (user + system) of every process each tool ran, the Tiled server's
included, a figure that holds when the machine is shared. Peak RSS is the Tiled server's
plus its client's, and fairbeam's main process (not its reading workers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import h5py
from rich.console import Console
from rich.table import Table

from _harvest_files import BEAMLINE, Tree, write_tree
from _harvest_run import Run, check, loopback_env, run_timed
from _harvest_tiled import run_tiled
from peers import TILED, ensure_tiled, peer_version

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
# Wide enough for the whole table when the output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 150)


# --- fairbeam -------------------------------------------------------------------------


def fairbeam_command() -> str:
    found = Path(sys.executable).with_name("fairbeam")
    return str(found) if found.exists() else shutil.which("fairbeam") or "fairbeam"


def checksum_switch(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The option or setting that turns checksums off, as the ingest command offers it."""
    help_text = check([fairbeam_command(), "ingest", "--help"], env)
    if "--no-checksum" in help_text:
        return ["--no-checksum"], {}
    if "--checksum" in help_text:
        return ["--checksum", "none"], {}
    return [], {"FAIRBEAM_CHECKSUM": "none"}


def ingest_summary(output: str) -> dict[str, int]:
    """Counts by status from `fairbeam ingest --json`; empty when it printed none."""
    try:
        report = json.loads(output[output.index("{") :])
    except ValueError:
        return {}
    summary = report.get("summary", {})
    return {key: value for key, value in summary.items() if isinstance(value, int)}


def catalogue_counts(database_url: str) -> dict[str, int]:
    """What the catalogue holds after the harvest: datasets, files, checksums, parameters."""
    from sqlalchemy import create_engine, text

    queries = {
        "datasets": "SELECT count(*) FROM dataset",
        "datafiles": "SELECT count(*) FROM datafile",
        "checksums": "SELECT count(*) FROM datafile WHERE checksum IS NOT NULL AND checksum <> ''",
        "parameters": "SELECT count(*) FROM dataset_parameter",
        "bytes": "SELECT coalesce(sum(size), 0) FROM datafile",
    }
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                name: int(connection.execute(text(sql)).scalar_one())
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


def add_beamline(database_url: str) -> None:
    """The beamline the files name, as the facility configures it before any harvest."""
    from fairbeam.access.policy import SYSTEM
    from fairbeam.catalogue.schemas import InstrumentIn
    from fairbeam.catalogue.service import create_instrument
    from fairbeam.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            beamline = InstrumentIn(name=BEAMLINE.upper(), full_name=f"{BEAMLINE.upper()} beamline")
            create_instrument(session, SYSTEM, beamline)
            session.commit()
    finally:
        engine.dispose()


def run_fairbeam(
    tree: Tree, work: Path, label: str, *, checksums: bool, database_url: str | None, timeout: float
) -> Run:
    """Time `fairbeam ingest DATA_ROOT --json` into a fresh catalogue."""
    var = work / f"var-{label}"
    var.mkdir()
    env = loopback_env(
        {
            "FAIRBEAM_VAR": str(var),
            "FAIRBEAM_DATABASE_URL": database_url or f"sqlite:///{var / 'fairbeam.db'}",
            "FAIRBEAM_DATA_ROOTS": str(tree.root),
        }
    )
    fairbeam = fairbeam_command()
    check([fairbeam, "db", "upgrade"], env)
    add_beamline(env["FAIRBEAM_DATABASE_URL"])
    options: list[str] = []
    if not checksums:
        options, settings = checksum_switch(env)
        env.update(settings)
    command = [fairbeam, "ingest", str(tree.root), "--json", *options]
    console.print(f"[dim]{' '.join(command[1:])}[/dim]")
    load = os.getloadavg()[0]
    done = run_timed(command, env, var / "ingest.log", timeout)
    summary = ingest_summary(done.output)
    held = catalogue_counts(env["FAIRBEAM_DATABASE_URL"])
    problems = []
    if done.returncode:
        problems.append(f"exit {done.returncode}: {done.output.strip()[-300:]}")
    if summary.get("failed"):
        problems.append(f"{summary['failed']} failed")
    if held["datasets"] != tree.datasets or held["datafiles"] != tree.files:
        problems.append(f"catalogue holds {held['datasets']} datasets, {held['datafiles']} files")
    if checksums and held["checksums"] != held["datafiles"]:
        problems.append(f"only {held['checksums']} of {held['datafiles']} files have checksums")
    ok = not problems
    note = "; ".join(problems)
    engine = "PostgreSQL" if database_url else "SQLite"
    return Run(
        tool=f"fairbeam ingest, {engine}, {'checksums' if checksums else 'no checksums'}",
        seconds=done.seconds,
        datasets=held["datasets"],
        files=held["datafiles"],
        bytes=tree.bytes,
        max_rss_mb=done.max_rss_mb,
        cpu_seconds=done.cpu_seconds,
        ok=ok,
        note=note,
        extra={"summary": summary, "catalogue": held, "load_before": load},
    )


class PostgresDatabase:
    """A database created for one run on the server ``admin_url`` names, dropped afterwards."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine

        self.name = f"fairbeam_bench_{os.getpid()}"
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.url = admin_url.rsplit("/", 1)[0] + f"/{self.name}"

    def __enter__(self) -> str:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.url

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.engine.dispose()


# --- Report ---------------------------------------------------------------------------


def per_second(amount: float, seconds: float) -> float:
    return amount / seconds if seconds > 0 else float("nan")


def print_table(tree: Tree, runs: list[Run]) -> None:
    tiled = next((run for run in runs if run.tool.startswith("Tiled") and run.ok), None)
    table = Table(title=f"Harvest of {tree.datasets:,} datasets ({tree.files:,} files)")
    for column in ("tool", "datasets", "files", "MB", "seconds", "datasets/s", "files/s", "MB/s"):
        table.add_column(column, justify="left" if column == "tool" else "right")
    table.add_column("x Tiled", justify="right")
    table.add_column("CPU s", justify="right")
    table.add_column("x Tiled CPU", justify="right")
    table.add_column("peak RSS MB", justify="right")
    for run in runs:
        ratio = f"{tiled.seconds / run.seconds:.1f}" if tiled and run.seconds > 0 else "-"
        cpu_ratio = (
            f"{tiled.cpu_seconds / run.cpu_seconds:.1f}" if tiled and run.cpu_seconds > 0 else "-"
        )
        table.add_row(
            run.tool + ("" if run.ok else " [red](failed)[/red]"),
            f"{run.datasets:,}",
            f"{run.files:,}",
            f"{run.bytes / 1e6:,.0f}",
            f"{run.seconds:.2f}",
            f"{per_second(run.datasets, run.seconds):,.1f}",
            f"{per_second(run.files, run.seconds):,.1f}",
            f"{per_second(run.bytes / 1e6, run.seconds):,.1f}",
            ratio,
            f"{run.cpu_seconds:.1f}",
            cpu_ratio,
            f"{run.max_rss_mb:,.0f}",
        )
    console.print(table)
    for run in runs:
        if run.note:
            console.print(f"[yellow]{run.tool}[/yellow]: {run.note}")


def save(args: argparse.Namespace, tree: Tree, runs: list[Run], generate_seconds: float) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"harvest-{stamp}.json"
    tiled = next((run for run in runs if run.tool.startswith("Tiled") and run.ok), None)
    report = {
        "benchmark": "harvest",
        "when": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": {
            "h5py": h5py.__version__,
            "tiled": peer_version(TILED) if tiled else None,
        },
        "parameters": {
            "datasets": args.datasets,
            "samples": args.samples,
            "megabytes_per_dataset": args.megabytes,
            "frame_side": args.frame_side,
        },
        "tree": {"datasets": tree.datasets, "files": tree.files, "bytes": tree.bytes},
        "generate_seconds": generate_seconds,
        "runs": [
            asdict(run)
            | {
                "datasets_per_second": per_second(run.datasets, run.seconds),
                "files_per_second": per_second(run.files, run.seconds),
                "megabytes_per_second": per_second(run.bytes / 1e6, run.seconds),
                "times_faster_than_tiled": tiled.seconds / run.seconds if tiled else None,
                "times_less_cpu_than_tiled": (
                    tiled.cpu_seconds / run.cpu_seconds if tiled and run.cpu_seconds else None
                ),
            }
            for run in runs
        ],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1000, help="datasets to write (1000)")
    parser.add_argument("--quick", action="store_true", help="50 datasets, to try it")
    parser.add_argument("--samples", type=int, default=20, help="sample folders (20)")
    parser.add_argument(
        "--megabytes", type=float, default=2.0, help="detector frames per dataset, MB (2)"
    )
    parser.add_argument("--frame-side", type=int, default=256, help="frame edge, pixels (256)")
    parser.add_argument(
        "--only",
        choices=["tiled", "fairbeam"],
        action="append",
        help="run only this tool (repeatable; default both)",
    )
    parser.add_argument("--postgres-url", help="also run on a fresh database on this server")
    parser.add_argument("--timeout", type=float, default=3600, help="per harvest, seconds")
    parser.add_argument("--workdir", type=Path, help="where to write (default a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the files and catalogues")
    args = parser.parse_args()
    if args.quick:
        args.datasets = 50
    return args


def main() -> None:
    args = parse_args()
    tools = set(args.only or ["tiled", "fairbeam"])
    if "tiled" in tools:
        ensure_tiled()
    work = Path(tempfile.mkdtemp(prefix="fairbeam-harvest-", dir=args.workdir))
    try:
        start = time.perf_counter()
        tree = write_tree(
            work / "data",
            args.datasets,
            samples=args.samples,
            megabytes=args.megabytes,
            frame_side=args.frame_side,
        )
        generate_seconds = time.perf_counter() - start
        console.print(
            f"wrote {tree.datasets:,} datasets, {tree.files:,} files, {tree.bytes / 1e6:,.0f} MB "
            f"in {generate_seconds:.1f} s under {tree.root}"
        )
        runs: list[Run] = []
        if "tiled" in tools:
            runs.append(run_tiled(tree, work, args.timeout))
        if "fairbeam" in tools:
            for checksums in (True, False):
                label = "sqlite-" + ("checksums" if checksums else "plain")
                runs.append(
                    run_fairbeam(
                        tree,
                        work,
                        label,
                        checksums=checksums,
                        database_url=None,
                        timeout=args.timeout,
                    )
                )
            if args.postgres_url:
                with PostgresDatabase(args.postgres_url) as url:
                    runs.append(
                        run_fairbeam(
                            tree,
                            work,
                            "postgres-checksums",
                            checksums=True,
                            database_url=url,
                            timeout=args.timeout,
                        )
                    )
        print_table(tree, runs)
        console.print(f"results: {save(args, tree, runs, generate_seconds)}")
        if not all(run.ok for run in runs):
            sys.exit(1)
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
