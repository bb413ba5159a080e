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
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import httpx
from rich.console import Console
from rich.table import Table

from _harvest_files import BEAMLINE, Tree, write_tree
from peers import TILED, ensure_tiled, peer_version

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
API_KEY = "secret"
LOOPBACK = "127.0.0.1"
# Wide enough for the whole table when the output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 150)


@dataclass
class Run:
    """One timed harvest of the whole tree."""

    tool: str
    seconds: float
    datasets: int
    files: int
    bytes: int
    max_rss_mb: float
    cpu_seconds: float
    ok: bool = True
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finished:
    """A finished child process: exit code, wall time, peak memory and CPU of its session."""

    returncode: int
    seconds: float
    max_rss_mb: float
    output: str
    cpu_seconds: float


TICKS = os.sysconf("SC_CLK_TCK")


def session_cpu(session: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of every live process in ``session``, by pid."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # After the command name: state ppid pgrp session ... utime (12th) stime (13th).
        if int(fields[3]) == session:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


class CpuMeter:
    """Samples a process session's CPU time: workers and servers the harvest starts count too."""

    def __init__(self, session: int) -> None:
        self.session = session
        self.seen: dict[int, float] = {}

    def sample(self) -> None:
        self.seen.update(session_cpu(self.session))

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def loopback_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: no proxy for loopback, plus ``extra``."""
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = f"{LOOPBACK},localhost"
    env.update(extra or {})
    return env


def run_timed(
    command: list[str], env: dict[str, str], log: Path, timeout: float, cwd: Path | None = None
) -> Finished:
    """Run ``command`` with its output in ``log``; wall time and the child's own peak RSS."""
    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        deadline = start + timeout
        meter = CpuMeter(process.pid)
        sampled = 0.0
        while True:
            now = time.perf_counter()
            if now - sampled > 0.2:
                meter.sample()
                sampled = now
            # wait4 gives this child's own rusage, where RUSAGE_CHILDREN would mix runs.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                seconds = time.perf_counter() - start
                process.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = -9
                seconds = time.perf_counter() - start
                break
            time.sleep(0.005)
    # The child's own CPU is exact from wait4; its workers' as last sampled.
    meter.seen[process.pid] = usage.ru_utime + usage.ru_stime
    return Finished(
        process.returncode, seconds, usage.ru_maxrss / 1024, log.read_text(), meter.seconds
    )


def check(command: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


# --- Tiled ----------------------------------------------------------------------------


def wait_for_server(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Apikey {API_KEY}"}
    with httpx.Client(trust_env=False, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the Tiled server exited with {process.returncode}")
            try:
                if client.get(url, headers=headers).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise SystemExit(f"the Tiled server did not answer {url} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen[bytes]) -> float:
    """Stop the server's process group; return its peak RSS in MB."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    try:
        _, _, usage = os.wait4(process.pid, 0) if process.returncode is None else (0, 0, None)
    except ChildProcessError:
        usage = None
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return usage.ru_maxrss / 1024 if usage else 0.0


def tiled_counts(database: Path) -> tuple[int, int]:
    """Nodes and file assets in Tiled's catalogue after registration."""
    with sqlite3.connect(database) as connection:
        nodes = connection.execute("SELECT count(*) FROM nodes").fetchone()[0]
        assets = connection.execute("SELECT count(*) FROM assets").fetchone()[0]
    return int(nodes), int(assets)


def run_tiled(tree: Tree, work: Path, timeout: float) -> Run:
    """Time `tiled register` of the data root into a fresh Tiled catalogue server."""
    bin_dir = ensure_tiled()
    tiled = str(bin_dir / "tiled")
    folder = work / "tiled"
    folder.mkdir()
    database = folder / "tiled.db"
    env = loopback_env({"TILED_API_KEY": API_KEY})
    check([tiled, "catalog", "init", f"sqlite:///{database}"], env)
    port = free_port()
    server_log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [tiled, "serve", "catalog", str(database), "-r", str(tree.root)]
        + ["--api-key", API_KEY, "--host", LOOPBACK, "--port", str(port)],
        stdout=server_log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    url = f"http://{LOOPBACK}:{port}/api/v1"
    try:
        wait_for_server(f"{url}/", server, timeout=120)
        console.print(f"[dim]tiled register {url} {tree.root}[/dim]")
        load = os.getloadavg()[0]
        server_cpu_before = sum(session_cpu(server.pid).values())
        done = run_timed(
            [tiled, "register", url, str(tree.root)], env, folder / "register.log", timeout
        )
        # The server does most of the work: its CPU during the registration counts.
        server_cpu = sum(session_cpu(server.pid).values()) - server_cpu_before
    finally:
        server_rss = stop_server(server)
        server_log.close()
    nodes, assets = tiled_counts(database)
    ok = done.returncode == 0 and assets >= tree.files
    note = "" if ok else f"exit {done.returncode}, {assets} of {tree.files} files registered"
    if done.returncode == -9:
        note = f"stopped after the {timeout:.0f} s timeout; {assets} files registered"
    return Run(
        tool=f"Tiled {peer_version(TILED)} register",
        seconds=done.seconds,
        datasets=tree.datasets,
        files=assets,
        bytes=tree.bytes,
        max_rss_mb=done.max_rss_mb + server_rss,
        cpu_seconds=done.cpu_seconds + server_cpu,
        ok=ok,
        note=note,
        extra={
            "load_before": load,
            "nodes": nodes,
            "server_rss_mb": server_rss,
            "server_cpu_seconds": server_cpu,
            "client_rss_mb": done.max_rss_mb,
        },
    )


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
