"""Data policy benchmark: one pass over a large catalogue, and the archive against `cp`.

    python bench/policy.py --template fb_bench_1000000          # PostgreSQL, 1M datasets
    python bench/policy.py --datasets 50000 --due 2000          # builds its own catalogue
    python bench/policy.py --url .../fb_policy_1m --reuse        # a copy made before

The catalogue comes from a copy of a database loaded by bench/catalogue.py (`--template`,
``CREATE DATABASE fb_policy TEMPLATE ...``) or is generated here with its generator.
Outside the clock, the bench then makes ``--due`` raw datasets due for archive with real
files on disk (``--files`` files of ``--file-kib`` KiB each, plus ``--large`` datasets
of one ``--large-mib`` MiB file), marks every older dataset archived and every released
investigation released, except ``--releases`` due for release. It copies the same files
with ``cp -r`` to the same filesystem, timed without and with a final ``sync`` (the
archive fsyncs each bundle and reads it back to verify it, which ``cp`` does not),
``--cp-runs`` times (the median run counts: one copy's time varies by half), then
times `fairbeam.policy.service.run_pass` — the real pass: release, DOIs, archive,
deletion, restores — with its CPU seconds (this process, all threads; the database
server's are not counted). The archive's time runs from its first bundle's creation to
its last completion, as the catalogue records them. Prints a table and writes JSON to
bench/results/, with the load average: the machine may be shared.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import Engine, create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from fairbeam.config import load_settings  # noqa: E402
from fairbeam.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402

RESULTS = Path(__file__).parent / "results"
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fb_policy"
console = Console()


def admin(url: str) -> Engine:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def copy_database(url: str, template: str) -> float:
    """fb_policy as a copy of ``template`` (nobody may be connected to it); seconds."""
    name = make_url(url).database
    started = time.perf_counter()
    with admin(url).connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return time.perf_counter() - started


def generate(url: str, datasets: int, seed: int) -> dict[str, Any]:
    """A fresh catalogue of ``datasets`` from bench/catalogue.py's generator."""
    from catalogue import fresh_database, load

    fresh_database(url)
    engine = make_engine(url)
    upgrade_database(engine)
    try:
        return load(engine, datasets, 1000, seed, more=False, clients=1)
    finally:
        engine.dispose()


def write_files(root: Path, ids: list[int], files: int, kib: int, large: int, mib: int) -> int:
    """The due datasets' files under ``root``/<id>/ (random bytes: detector data does not
    compress); the bytes written."""
    shutil.rmtree(root, ignore_errors=True)
    total = 0
    block = os.urandom(kib * 1024)
    for number, dataset_id in enumerate(ids):
        folder = root / str(dataset_id)
        (folder / "scan0001").mkdir(parents=True)
        sizes = [mib * 1024 * 1024] if number < large else [kib * 1024] * files
        for index, size in enumerate(sizes):
            path = folder / "scan0001" / f"frames_{index:04d}.h5"
            with path.open("wb") as handle:
                handle.write(os.urandom(64))  # every file differs
                left = size - 64
                while left > 0:
                    handle.write(block[: min(left, len(block))])
                    left -= len(block)
            total += size
    subprocess.run(["sync"], check=True)
    return total


def prepare(engine: Engine, args: argparse.Namespace, data: Path) -> dict[str, Any]:
    """Outside the clock: the due datasets with real files, the rest archived or released."""
    with engine.begin() as connection:
        latest = connection.execute(text("SELECT max(start) FROM dataset")).scalar_one()
        as_of = (latest + timedelta(days=args.online_days // 2)).date()
        cutoff = datetime.combine(as_of, datetime.min.time()) - timedelta(days=args.online_days)
        due = list(
            connection.execute(
                text(
                    "SELECT id FROM dataset WHERE type = 'raw' AND start < :cutoff "
                    "ORDER BY start DESC, id DESC LIMIT :due"
                ),
                {"cutoff": cutoff, "due": args.due},
            ).scalars()
        )
        # A copy of a database a previous run used: its due datasets are due again.
        connection.execute(text("DELETE FROM archive_bundle"))
        connection.execute(
            text("UPDATE dataset SET storage_state = 'online' WHERE id = ANY(:due)"), {"due": due}
        )
        connection.execute(
            text(
                "UPDATE dataset SET storage_state = 'archived' WHERE start < :cutoff "
                "AND type = 'raw' AND NOT (id = ANY(:due))"
            ),
            {"cutoff": cutoff, "due": due},
        )
        connection.execute(text("UPDATE investigation SET proposal_type = 'standard'"))
        # Every investigation has its DOI; all released but --releases of them.
        connection.execute(text("UPDATE investigation SET doi = '10.5072/bench-' || id"))
        moment = datetime.combine(as_of, datetime.min.time())
        connection.execute(
            text("UPDATE investigation SET release_date = start + interval '3 years'")
        )
        connection.execute(
            text("UPDATE investigation SET released = release_date WHERE release_date <= :m"),
            {"m": moment},
        )
        connection.execute(
            text(
                "UPDATE investigation SET released = NULL WHERE id IN (SELECT id FROM "
                "investigation WHERE release_date <= :m ORDER BY release_date DESC LIMIT :n)"
            ),
            {"m": moment, "n": args.releases},
        )
    size = write_files(data, due, args.files, args.file_kib, args.large, args.large_mib)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM datafile WHERE dataset_id = ANY(:due)"), {"due": due})
        rows = []
        for dataset_id in due:
            for path in sorted((data / str(dataset_id)).rglob("*.h5")):
                rel = path.relative_to(data / str(dataset_id)).as_posix()
                rows.append({"d": dataset_id, "p": rel, "s": path.stat().st_size})
        connection.execute(
            text(
                "INSERT INTO datafile (dataset_id, path, size, tier) VALUES (:d, :p, :s, 'online')"
            ),
            rows,
        )
        connection.execute(
            text("UPDATE dataset SET location = :root || '/' || id WHERE id = ANY(:due)"),
            {"root": str(data), "due": due},
        )
        connection.execute(text("ANALYZE"))
        datasets = connection.execute(text("SELECT count(*) FROM dataset")).scalar_one()
        files = connection.execute(text("SELECT count(*) FROM datafile")).scalar_one()
    return {
        "as_of": as_of.isoformat(),
        "datasets": datasets,
        "datafiles": files,
        "due_for_archive": len(due),
        "due_files": len(rows),
        "due_bytes": size,
        "due_for_release": args.releases,
    }


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def time_cp(data: Path, target: Path, runs: int) -> dict[str, Any]:
    """``cp -r`` of the due files, then ``sync``, ``runs`` times: the median run's
    seconds of each and cp's CPU seconds (a single copy's time varies by half from run
    to run with what the page cache holds), and every run's."""
    times = sorted((_time_cp_once(data, target) for _ in range(runs)),
                   key=lambda t: t["cp_sync_seconds"])  # fmt: skip
    return {**times[len(times) // 2], "cp_runs": times}


def _time_cp_once(data: Path, target: Path) -> dict[str, float]:
    """One ``cp -r`` of the due files, then ``sync``; seconds of each, and cp's CPU."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(data), str(target)], check=True)
    copied = time.perf_counter() - started
    cp_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    subprocess.run(["sync"], check=True)
    synced = time.perf_counter() - started
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    return {"cp_seconds": copied, "cp_sync_seconds": synced, "cp_cpu_seconds": cp_cpu}


def archive_span(engine: Engine) -> float:
    """Seconds from the first bundle's creation to the last one's completion."""
    with engine.connect() as connection:
        first, last = connection.execute(
            text("SELECT min(created), max(completed) FROM archive_bundle")
        ).one()
    return (last - first).total_seconds() if first and last else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=URL)
    parser.add_argument("--template", help="copy this loaded database (bench/catalogue.py)")
    parser.add_argument(
        "--reuse", action="store_true", help="run on the database at --url as it is (a copy)"
    )
    parser.add_argument("--datasets", type=int, default=50_000, help="without --template")
    parser.add_argument("--due", type=int, default=10_000, help="datasets due for archive")
    parser.add_argument("--files", type=int, default=2, help="files per due dataset")
    parser.add_argument("--file-kib", type=int, default=150)
    parser.add_argument("--large", type=int, default=5, help="due datasets with one big file")
    parser.add_argument("--large-mib", type=int, default=200)
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--online-days", type=int, default=90)
    parser.add_argument("--folder", type=Path, default=Path("var/bench/policy"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cp-runs", type=int, default=3, help="cp runs; the median counts")
    args = parser.parse_args()
    folder = args.folder.resolve()
    data, archive, copy = folder / "data", folder / "archive", folder / "cp"
    source: dict[str, Any] = {}
    if args.reuse:
        source = {"reused": make_url(args.url).database}
    elif args.template:
        source = {"template": args.template, "copy_seconds": copy_database(args.url, args.template)}
    else:
        source = {"generated": generate(args.url, args.datasets, args.seed)}
    engine = make_engine(args.url)
    upgrade_database(engine)
    console.print("preparing the due datasets and their files…")
    prepared = prepare(engine, args, data)
    baseline = time_cp(data, copy, args.cp_runs)
    shutil.rmtree(archive, ignore_errors=True)
    settings = load_settings(
        database_url=args.url,
        var=folder / "var",
        archive=archive,
        data_roots=[data],
        online_days=args.online_days,
    )
    from fairbeam.policy import service
    from fairbeam.policy.service import run_pass

    # Whether the pass hands the archive its due datasets a batch at a time.
    batched = "archive_datasets" in inspect.getsource(service._archive_due)

    sessions = make_sessionmaker(engine)
    steps: dict[str, list[float]] = {}

    def progress(step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        steps.setdefault(step, [now, now])[1] = now

    load_before = os.getloadavg()
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    started = time.perf_counter()
    row = run_pass(sessions, settings, date.fromisoformat(prepared["as_of"]), progress=progress)
    seconds = time.perf_counter() - started
    pass_cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu
    load_after = os.getloadavg()
    # A step's time from its first progress tick to its last (the first object's, or
    # batch's, work comes before its first tick); the archive's from the catalogue.
    step_seconds = {step: last - first for step, (first, last) in steps.items()}
    archive_seconds = archive_span(engine) or seconds
    summary = dict(row.summary)
    with sessions() as session:
        archived = session.scalar(
            select(func.count())
            .select_from(text("archive_bundle"))
            .where(text("state = 'complete'"))
        )
    mib = prepared["due_bytes"] / 2**20
    result = {
        "engine": engine.dialect.name,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "pass_archives_in_batches": batched,
        "source": source,
        "prepared": prepared,
        "pass": {
            "status": row.status,
            "seconds": seconds,
            "cpu_seconds": pass_cpu,
            "step_seconds": step_seconds,
            "summary": summary,
        },
        "archive_seconds": archive_seconds,
        "archived_bundles": archived,
        "datasets_per_s": prepared["datasets"] / seconds,
        "archive_mib_per_s": mib / archive_seconds,
        "pass_mib_per_s": mib / seconds,
        "cp_mib_per_s": mib / baseline["cp_seconds"],
        "cp_sync_mib_per_s": mib / baseline["cp_sync_seconds"],
        "archive_vs_cp": archive_seconds / baseline["cp_seconds"],
        "archive_vs_cp_sync": archive_seconds / baseline["cp_sync_seconds"],
        **baseline,
        "when": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"policy-{engine.dialect.name}-{prepared['datasets']}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    table = Table(title=f"policy pass over {prepared['datasets']:,} datasets ({row.status})")
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("datasets / datafiles", f"{prepared['datasets']:,} / {prepared['datafiles']:,}"),
        ("due: archive / release", f"{prepared['due_for_archive']:,} / {args.releases:,}"),
        ("archived / released", f"{summary.get('archived')} / {summary.get('released')}"),
        ("bytes archived", f"{mib:,.0f} MiB in {prepared['due_files']:,} files"),
        ("pass time", f"{seconds:,.1f} s"),
        ("catalogue rows per second", f"{result['datasets_per_s']:,.0f} datasets/s"),
        ("pass CPU (this process)", f"{pass_cpu:,.1f} s"),
        ("archive step", f"{archive_seconds:,.1f} s"),
        ("archive (fsync + read-back verify)", f"{result['archive_mib_per_s']:,.1f} MiB/s"),
        ("archive (whole pass)", f"{result['pass_mib_per_s']:,.1f} MiB/s"),
        ("cp -r", f"{result['cp_mib_per_s']:,.1f} MiB/s ({baseline['cp_seconds']:.1f} s)"),
        (
            "cp -r + sync",
            f"{result['cp_sync_mib_per_s']:,.1f} MiB/s ({baseline['cp_sync_seconds']:.1f} s)",
        ),
        ("archive time / cp -r + sync", f"{result['archive_vs_cp_sync']:.2f}x"),
        ("archive time / cp -r", f"{result['archive_vs_cp']:.2f}x"),
        ("cp CPU", f"{baseline['cp_cpu_seconds']:,.1f} s"),
        (
            f"cp -r + sync, each of {len(baseline['cp_runs'])} runs",
            ", ".join(f"{t['cp_sync_seconds']:.1f}" for t in baseline["cp_runs"]) + " s",
        ),
        ("pass archives in batches", "yes" if batched else "no (a dataset at a time)"),
        (
            "load average before / after",
            f"{load_before[0]:.1f} / {load_after[0]:.1f} ({os.cpu_count()} CPUs)",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"written to {out}")


if __name__ == "__main__":
    main()
