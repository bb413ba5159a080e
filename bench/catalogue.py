"""Catalogue benchmark: load N datasets through registration, then time the portal's
typical queries.

    python bench/catalogue.py --datasets 100000 --engine sqlite
    python bench/catalogue.py --datasets 1000000 --engine postgresql
    python bench/catalogue.py --datasets 1000000 --engine postgresql --skip-load

The beamlines are split between the registration clients (`--clients`). Before the
clock starts, a generator process per group plays their control software and writes the
request bodies of `POST /api/datasets/batch` to var/bench/bodies/, a file per batch. In
service that software runs on the beamlines' own machines, so the catalogue's load rate
does not pay for it: the generation is reported apart, as untimed wall and CPU seconds.
The timed load then runs the clients alone: each reads its group's bodies from disk in
order, validates them into the API's models and registers them through
`register_datasets`, one transaction per batch, as the API does. Load rates are over the
load's wall time (validation, registration and the database's work overlap), with the
CPU seconds of each part and the machine's load average. The bodies are deleted after the
load unless `--keep-bodies` is given.
Results, with PostgreSQL's settings that shape a load, are printed as a table and written
as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from catalogue_load import BODIES, analyze, load  # noqa: E402
from catalogue_queries import Timing, run_queries  # noqa: E402
from catalogue_world import load_facility  # noqa: E402
from fairbeam.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402

RESULTS = Path(__file__).parent / "results"
# PostgreSQL's settings that shape a bulk load, recorded with each run.
SETTINGS = (
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "synchronous_commit",
    "wal_compression",
    "autovacuum",
)
console = Console()


def default_url(engine: str, datasets: int) -> str:
    """A database of its own per engine and size, so runs can be repeated."""
    if engine == "sqlite":
        return f"sqlite:///var/bench/catalogue-{datasets}.db"
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/fb_bench_{datasets}"


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    admin_url = parsed.set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def database_size(engine: Engine) -> int:
    """Bytes the catalogue takes on disk."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT pg_database_size(current_database())")))
    database = engine.url.database
    assert database
    return sum(os.path.getsize(database + s) for s in ("", "-wal") if os.path.exists(database + s))


def server_settings(engine: Engine) -> dict[str, str]:
    """PostgreSQL's settings that shape a load, as ``SHOW`` gives them (none on SQLite)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as connection:
        return {name: str(connection.exec_driver_sql(f"SHOW {name}").scalar()) for name in SETTINGS}


def report(
    engine_name: str,
    datasets: int,
    loading: dict[str, Any] | None,
    size: int,
    timings: list[Timing],
) -> Table:
    """The rich table of load rates, query times and size."""
    table = Table(title=f"catalogue benchmark: {datasets:,} datasets on {engine_name}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("p95 ms", justify="right")
    if loading:
        table.add_row("datasets loaded", f"{loading['datasets']:,}", "")
        table.add_row("datafile rows loaded", f"{loading['files']:,}", "")
        table.add_row("parameter rows loaded", f"{loading['parameters']:,}", "")
        seconds = loading.get("load_seconds", loading.get("register_seconds", 0))
        table.add_row("load time (wall)", f"{seconds:,.0f} s", "")
        table.add_row("datasets/s", f"{loading['datasets_per_s']:,.0f}", "")
        table.add_row("datafile rows/s", f"{loading['files_per_s']:,.0f}", "")
        table.add_row("parameter rows/s", f"{loading['parameters_per_s']:,.0f}", "")
        if "register_cpu_seconds" in loading:
            table.add_row(
                "CPU s: clients (validating), database",
                f"{loading['register_cpu_seconds']:,.0f} "
                f"({loading['validation_cpu_seconds']:,.0f}), "
                f"{loading['database_cpu_seconds']:,.0f}",
                "",
            )
        if "generator_cpu_seconds" in loading:  # older runs generated during the load
            generator = loading["generator_cpu_seconds"]
            table.add_row("CPU s: generator, in the load", f"{generator:,.0f}", "")
        if "generation_seconds" in loading:
            table.add_row(
                "generation (untimed): wall, CPU s",
                f"{loading['generation_seconds']:,.0f} s, {loading['generation_cpu_seconds']:,.0f}",
                "",
            )
        if "files_per_cpu_s" in loading:
            table.add_row(
                "datafile rows per CPU-s (registration + database)",
                f"{loading['files_per_cpu_s']:,.0f}",
                "",
            )
        if "load_average" in loading:
            before, after = loading["load_average"]
            table.add_row("load average, start / end", f"{before:.1f} / {after:.1f}", "")
        if "clients" in loading:
            table.add_row(
                "clients x datasets per batch", f"{loading['clients']} x {loading['batch']:,}", ""
            )
    table.add_row("database size", f"{size / 2**30:,.2f} GiB", "")
    for t in timings:
        table.add_row(f"{t.name}: p50 ms", f"{t.p50_ms:,.1f}", f"{t.p95_ms:,.1f}")
    return table


def print_settings(settings: dict[str, str] | None) -> None:
    """PostgreSQL's settings of a run, on a line under its table."""
    if settings:
        console.print("PostgreSQL: " + ", ".join(f"{k} {v}" for k, v in settings.items()))


def load_more(url: str, args: argparse.Namespace) -> None:
    """Time registration into the catalogue already loaded at that size."""
    engine = make_engine(url)
    upgrade_database(engine)
    loading = load(engine, args.more, args.batch, args.seed, True, args.clients, args.keep_bodies)
    loading["postgresql_settings"] = server_settings(engine) or None
    console.print(report(engine.dialect.name, args.datasets, loading, database_size(engine), []))
    print_settings(loading["postgresql_settings"])
    out = RESULTS / f"catalogue-{engine.dialect.name}-{args.datasets}.json"
    result = json.loads(out.read_text()) if out.exists() else {}
    result["load_more"] = loading
    out.write_text(json.dumps(result, indent=2))
    console.print(f"written to {out}")


def main() -> None:
    """Parse the options, load, time, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="database URL (default: one per engine and size)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1000, help="datasets per transaction")
    parser.add_argument(
        "--clients", type=int, default=1, help="registration clients at once, one connection each"
    )
    parser.add_argument("--runs", type=int, default=100, help="timed runs per query")
    parser.add_argument("--skip-load", action="store_true", help="time queries on a loaded DB")
    parser.add_argument(
        "--more", type=int, default=0, help="only load this many more datasets into the DB"
    )
    parser.add_argument(
        "--keep-bodies",
        action="store_true",
        help=f"keep the request bodies written under {BODIES} after the load",
    )
    args = parser.parse_args()
    url = args.url or default_url(args.engine, args.datasets)
    if args.more:
        load_more(url, args)
        return
    loading = None
    if not args.skip_load:
        fresh_database(url)
    engine = make_engine(url)
    upgrade_database(engine)
    if not args.skip_load:
        loading = load(
            engine, args.datasets, args.batch, args.seed, False, args.clients, args.keep_bodies
        )
    else:
        analyze(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        facility = load_facility(session)
    timings = run_queries(sessions, facility, args.runs, args.seed)
    size = database_size(engine)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"catalogue-{engine.dialect.name}-{args.datasets}.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    # A run that skips loading reports the load of the run that made the database.
    loading = loading or previous.get("load")
    result = {
        "engine": engine.dialect.name,
        "datasets": args.datasets,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load": loading,
        "database_bytes": size,
        "postgresql_settings": server_settings(engine) or None,
        "queries": [asdict(t) for t in timings],
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    result["load_more"] = previous.get("load_more")
    out.write_text(json.dumps(result, indent=2))
    console.print(report(engine.dialect.name, args.datasets, loading, size, timings))
    print_settings(result["postgresql_settings"])
    if result["load_more"]:
        more = result["load_more"]
        console.print(report(engine.dialect.name, args.datasets, more, size, []))
        print_settings(more.get("postgresql_settings"))
    console.print(f"written to {out}")


if __name__ == "__main__":
    main()
