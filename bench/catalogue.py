"""Catalogue benchmark: load N datasets through registration, then time the portal's
typical queries.

    python bench/catalogue.py --datasets 100000 --engine sqlite
    python bench/catalogue.py --datasets 1000000 --engine postgresql
    python bench/catalogue.py --datasets 1000000 --engine postgresql --skip-load

Datasets go through `register_datasets`, the code path of `POST /api/datasets` and
`POST /api/datasets/batch`, one transaction per batch. Load rates count the time spent
registering and committing (the synthetic data is made beforehand, outside the clock).
Results are printed as a table and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import Engine, create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from catalogue_queries import Timing, run_queries  # noqa: E402
from catalogue_world import (  # noqa: E402
    build_facility,
    build_investigations,
    dataset_batches,
    load_facility,
)
from fairbeam.catalogue.models import Investigation  # noqa: E402
from fairbeam.catalogue.registration import register_datasets  # noqa: E402
from fairbeam.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402

RESULTS = Path(__file__).parent / "results"
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


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load, and on PostgreSQL the dataset table's
    visibility map for index-only scans (autovacuum gets there too, later)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM (ANALYZE) dataset"))
        connection.execute(text("ANALYZE"))
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        connection.commit()


def backend_cpu(engine: Engine) -> float:
    """CPU seconds used so far by the database server's processes serving this database
    (PostgreSQL on this machine; 0 for SQLite, which runs inside the loader)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as connection:
        pids = connection.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def load(engine: Engine, datasets: int, batch: int, seed: int, more: bool) -> dict[str, Any]:
    """Generate and register ``datasets`` datasets; answer the load rates. With
    ``more``, the facility exists and new proposals bring the datasets (the rate of
    loading into a catalogue of the size already there)."""
    sessions = make_sessionmaker(engine)
    rng = random.Random(seed + more)
    with sessions() as session:
        if more:
            facility = load_facility(session)
            first = 1000 + (session.scalar(select(func.max(Investigation.id))) or 0)
        else:
            facility, first = build_facility(session, datasets, rng), 1000
        proposals = build_investigations(session, facility, datasets, rng, first)
    counts = {"datasets": 0, "files": 0, "parameters": 0}
    registering = 0.0
    client_cpu = 0.0
    server_cpu = -backend_cpu(engine)
    begin = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("registering datasets", total=datasets)
        for items in dataset_batches(proposals, batch, rng):
            started, started_cpu = time.perf_counter(), time.process_time()
            with sessions() as session:
                register_datasets(session, facility.loader, items)
                session.commit()
            registering += time.perf_counter() - started
            client_cpu += time.process_time() - started_cpu
            counts["datasets"] += len(items)
            counts["files"] += sum(len(i.files) for i in items)
            counts["parameters"] += sum(len(i.parameters) for i in items)
            progress.update(task, advance=len(items))
    wall = time.perf_counter() - begin
    server_cpu += backend_cpu(engine)
    started = time.perf_counter()
    analyze(engine)
    return {
        **counts,
        "investigations": len(proposals),
        "users": len(facility.users),
        "batch": batch,
        "register_seconds": registering,
        "wall_seconds": wall,
        "analyze_seconds": time.perf_counter() - started,
        "datasets_per_s": counts["datasets"] / registering,
        "files_per_s": counts["files"] / registering,
        "parameters_per_s": counts["parameters"] / registering,
        "files_per_s_wall": counts["files"] / wall,
        "register_cpu_seconds": client_cpu,
        "database_cpu_seconds": server_cpu,
        # Machine shared with other work: rows per CPU-second of loader plus database
        # server, as if the two never overlapped (a floor for an idle machine).
        "files_per_cpu_s": counts["files"] / (client_cpu + server_cpu),
    }


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
        table.add_row("registration time", f"{loading['register_seconds']:,.0f} s", "")
        table.add_row("datasets/s", f"{loading['datasets_per_s']:,.0f}", "")
        table.add_row("datafile rows/s", f"{loading['files_per_s']:,.0f}", "")
        table.add_row("parameter rows/s", f"{loading['parameters_per_s']:,.0f}", "")
        if "files_per_cpu_s" in loading:
            table.add_row(
                "datafile rows per CPU-s (loader + database)",
                f"{loading['files_per_cpu_s']:,.0f}",
                "",
            )
        table.add_row(
            "datafile rows/s (with data generation)", f"{loading['files_per_s_wall']:,.0f}", ""
        )
    table.add_row("database size", f"{size / 2**30:,.2f} GiB", "")
    for t in timings:
        table.add_row(f"{t.name}: p50 ms", f"{t.p50_ms:,.1f}", f"{t.p95_ms:,.1f}")
    return table


def load_more(url: str, args: argparse.Namespace) -> None:
    """Time registration into the catalogue already loaded at that size."""
    engine = make_engine(url)
    upgrade_database(engine)
    loading = load(engine, args.more, args.batch, args.seed, more=True)
    console.print(report(engine.dialect.name, args.datasets, loading, database_size(engine), []))
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
    parser.add_argument("--runs", type=int, default=100, help="timed runs per query")
    parser.add_argument("--skip-load", action="store_true", help="time queries on a loaded DB")
    parser.add_argument(
        "--more", type=int, default=0, help="only load this many more datasets into the DB"
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
        loading = load(engine, args.datasets, args.batch, args.seed, more=False)
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
        "queries": [asdict(t) for t in timings],
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    result["load_more"] = previous.get("load_more")
    out.write_text(json.dumps(result, indent=2))
    console.print(report(engine.dialect.name, args.datasets, loading, size, timings))
    if result["load_more"]:
        more = result["load_more"]
        console.print(report(engine.dialect.name, args.datasets, more, size, []))
    console.print(f"written to {out}")


if __name__ == "__main__":
    main()
