"""Loading the catalogue benchmark's datasets: the request bodies written before the
clock starts, then the registration clients timed, each in a process of its own."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, func, select, text

from catalogue_world import (
    Batch,
    Proposal,
    beamline_streams,
    biggest,
    build_facility,
    build_investigations,
    load_facility,
    request_bodies,
    store_bodies,
    stored_bodies,
)
from fairbeam.access.policy import Principal
from fairbeam.api.collector import tune_collector
from fairbeam.catalogue.models import Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetBatchIn, DatasetIn
from fairbeam.db import make_engine, make_sessionmaker

BODIES = Path(__file__).resolve().parent.parent / "var" / "bench" / "bodies"
console = Console()


def bodies_folder(engine: Engine) -> Path:
    """Where the request bodies for this database are written before its load."""
    database = engine.url.database
    assert database
    return BODIES / (Path(database).stem if engine.dialect.name == "sqlite" else database)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load, and on PostgreSQL every table's
    visibility map for index-only scans (investigation_word is read from its index
    alone): what autovacuum does later, and what a server with autovacuum off (as this
    machine's is) never does by itself."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM (ANALYZE)"))
        connection.execute(text("ANALYZE"))
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        connection.commit()


def _backend_cpu_of(pid: int) -> float:
    """CPU seconds used so far by one process of this machine (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _generate(
    proposals: list[Proposal], batch: int, seed: int, big: str, folder: Path, events: Any
) -> None:
    """The control software's side, before the clock starts: its request bodies written
    to ``folder``, for one client to read."""
    bodies = request_bodies(proposals, batch, random.Random(seed), big)
    for body in store_bodies(folder, bodies):
        events.put(("batch", body.datasets, body.files, body.parameters))
    events.put(("done", time.process_time(), 0.0, 0.0))


def _register(url: str, principal: Principal, folder: Path, events: Any) -> None:
    """One registration client, as ``POST /api/datasets/batch`` serves it: each body read
    from ``folder`` is validated into the API's models, then registered and committed in
    one transaction. A thread reads and validates the next body while the database writes
    the current one. The process's collector is tuned as the API's is."""
    tune_collector()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    validated: queue.Queue[tuple[Batch, list[DatasetIn]] | BaseException | None]
    validated = queue.Queue(maxsize=2)
    validation_cpu = [0.0]

    def validate() -> None:
        try:
            for body in stored_bodies(folder):
                validated.put((body, DatasetBatchIn.model_validate_json(body.body).datasets))
        except BaseException as exc:  # handed to the client, which then fails
            validated.put(exc)
            return
        validation_cpu[0] = time.thread_time()
        validated.put(None)

    threading.Thread(target=validate, daemon=True).start()
    backend = 0
    while (job := validated.get()) is not None:
        if isinstance(job, BaseException):
            raise job
        batch, items = job
        with sessions() as session:
            if not backend and engine.dialect.name == "postgresql":
                backend = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            register_datasets(session, principal, items)
            session.commit()
        events.put(("batch", batch.datasets, batch.files, batch.parameters))
    database = _backend_cpu_of(backend) if backend else 0.0
    events.put(("done", time.process_time(), database, validation_cpu[0]))
    engine.dispose()


def _follow(
    workers: list[Any], events: Any, description: str, total: int
) -> tuple[dict[str, int], dict[str, float], float]:
    """Start ``workers`` and show their progress until each has reported its end; answer
    the rows they reported, their CPU seconds (their own, their database backends', their
    validating threads') and the wall time from start to the last end."""
    counts = {"datasets": 0, "files": 0, "parameters": 0}
    cpu = {"process": 0.0, "database": 0.0, "validation": 0.0}
    begin = time.perf_counter()
    for worker in workers:
        worker.start()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"))
    finished = 0
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(description, total=total)
        while finished < len(workers):
            try:
                kind, *values = events.get(timeout=5)
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    for worker in workers:
                        worker.kill()
                    raise SystemExit(f"a process failed while {description}") from None
                continue
            if kind == "batch":
                for key, value in zip(counts, values, strict=True):
                    counts[key] += value
                progress.update(task, advance=values[0])
                continue
            finished += 1
            for key, value in zip(cpu, values, strict=True):
                cpu[key] += value
    wall = time.perf_counter() - begin
    for worker in workers:
        worker.join()
    return counts, cpu, wall


def load(
    engine: Engine,
    datasets: int,
    batch: int,
    seed: int,
    more: bool,
    clients: int,
    keep_bodies: bool,
) -> dict[str, Any]:
    """Generate and register ``datasets`` datasets; answer the load rates. With
    ``more``, the facility exists and new proposals bring the datasets (the rate of
    loading into a catalogue of the size already there).

    The beamlines are split into ``clients`` groups. Before the clock starts, a generator
    process per group plays their control software and writes its request bodies to
    disk. Then a client process per group reads, validates and registers them, as the API
    would: validation, registration and the database's work overlap as they do in
    service, and no two clients write into the same investigation at once (one would wait
    for the other's transaction to create a sample).
    """
    sessions = make_sessionmaker(engine)
    rng = random.Random(seed + more)
    with sessions() as session:
        if more:
            facility = load_facility(session)
            first = 1000 + (session.scalar(select(func.max(Investigation.id))) or 0)
        else:
            facility, first = build_facility(session, datasets, rng), 1000
        proposals = build_investigations(session, facility, datasets, rng, first)
    engine.dispose()  # no connection of this process shared with the forked ones
    fork = multiprocessing.get_context("fork")
    events = fork.Queue()
    url = engine.url.render_as_string(hide_password=False)
    big = biggest(proposals)
    streams = beamline_streams(proposals, clients)
    root = bodies_folder(engine)
    folders = [root / f"client-{k}" for k in range(1, clients + 1)]
    shutil.rmtree(root, ignore_errors=True)  # what an interrupted run left
    try:
        generators = [
            fork.Process(
                target=_generate, args=(stream, batch, rng.getrandbits(64), big, folder, events)
            )
            for stream, folder in zip(streams, folders, strict=True)
        ]
        made, made_cpu, made_wall = _follow(
            generators, events, "generating request bodies (untimed)", datasets
        )
        registrations = [
            fork.Process(target=_register, args=(url, facility.loader, folder, events))
            for folder in folders
        ]
        load_before = os.getloadavg()[0]
        counts, cpu, wall = _follow(registrations, events, "registering datasets", datasets)
        load_after = os.getloadavg()[0]
    finally:
        if not keep_bodies:
            shutil.rmtree(root, ignore_errors=True)
    if counts != made:
        raise SystemExit(f"registered {counts}, but the request bodies held {made}")
    started = time.perf_counter()
    analyze(engine)
    return {
        **counts,
        "investigations": len(proposals),
        "users": len(facility.users),
        "batch": batch,
        "clients": clients,
        "load_seconds": wall,
        "analyze_seconds": time.perf_counter() - started,
        "datasets_per_s": counts["datasets"] / wall,
        "files_per_s": counts["files"] / wall,
        "parameters_per_s": counts["parameters"] / wall,
        # Before the clock started: the control software's work, done elsewhere in service.
        "generation_seconds": made_wall,
        "generation_cpu_seconds": made_cpu["process"],
        # A client's CPU time, of which its thread reading and validating request bodies.
        "register_cpu_seconds": cpu["process"],
        "validation_cpu_seconds": cpu["validation"],
        "database_cpu_seconds": cpu["database"],
        # Machine shared with other work: rows per CPU-second of the registration
        # clients plus their database backends.
        "files_per_cpu_s": counts["files"] / (cpu["process"] + cpu["database"]),
        "load_average": [load_before, load_after],
    }
