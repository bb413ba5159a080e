"""The portal's typical catalogue queries, run as the real service functions with a
real principal, each timed over many runs with varied arguments."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from catalogue_world import FIRST_DAY, LAST_DAY, SAMPLES, Facility
from fairbeam.access.policy import ANONYMOUS, Principal
from fairbeam.catalogue.datasets import DatasetFilters, list_datasets, list_files
from fairbeam.catalogue.facets import dataset_facets
from fairbeam.catalogue.models import Datafile, Dataset, Participant
from fairbeam.catalogue.service import InvestigationFilters, list_investigations
from fairbeam.pagination import encode_cursor

PAGE = 50


@dataclass
class Timing:
    """p50 and p95 of one query, in milliseconds, how many rows the runs returned, the
    CPU a run took in this process and in the database server (PostgreSQL on this
    machine), and the load average (one minute) when the runs ended. On a machine
    shared with other work the CPU says what the query costs; the times say what a
    caller waited."""

    name: str
    runs: int
    p50_ms: float
    p95_ms: float
    rows: float
    cpu_ms: float = 0.0
    database_cpu_ms: float = 0.0
    load: float = 0.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _backend_pid(session: Session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


def _process_cpu(pid: int | None) -> float:
    """CPU seconds used so far by process ``pid`` (0 when it is not on this machine)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def time_query(
    sessions: sessionmaker[Session], name: str, runs: int, call: Callable[[Session, int], int]
) -> Timing:
    """Run ``call`` ``runs`` times (after two warm-up runs), each in its own session, as a
    request would."""
    for n in range(2):
        with sessions() as session:
            call(session, n)
    elapsed = []
    rows = []
    cpu = database_cpu = 0.0
    for n in range(runs):
        with sessions() as session:
            # The server process serving this session, asked before the clock starts.
            pid = _backend_pid(session)
            begin, begin_cpu, begin_database = (
                time.perf_counter(),
                time.process_time(),
                _process_cpu(pid),
            )
            rows.append(call(session, n))
            elapsed.append((time.perf_counter() - begin) * 1000)
            cpu += time.process_time() - begin_cpu
            database_cpu += _process_cpu(pid) - begin_database
    return Timing(
        name,
        runs,
        _percentile(elapsed, 0.5),
        _percentile(elapsed, 0.95),
        statistics.mean(rows),
        cpu / runs * 1000,
        database_cpu / runs * 1000,
        os.getloadavg()[0],
    )


def _date_window(rng: random.Random, days: int) -> tuple[datetime, datetime]:
    span = (LAST_DAY - FIRST_DAY).days - days
    start = FIRST_DAY + timedelta(days=rng.randrange(span))
    return start, start + timedelta(days=days)


def run_queries(
    sessions: sessionmaker[Session], facility: Facility, runs: int, seed: int
) -> list[Timing]:
    """Time every query of the portal's typical pages."""
    rng = random.Random(seed)
    with sessions() as session:
        busy = session.execute(
            select(Participant.user_id)
            .group_by(Participant.user_id)
            .order_by(func.count().desc())
            .limit(200)
        ).scalars()
        by_id = {u.user_id: u for u in facility.users}
        members = [by_id[i] for i in busy if i in by_id]
        big, big_files = session.execute(
            select(Dataset.id, Dataset.file_count).order_by(Dataset.file_count.desc()).limit(1)
        ).one()
        # Paths of the big dataset at a few depths, to start pages from (as a cursor).
        depths = [int(big_files * f) for f in (0.3, 0.5, 0.7, 0.9, 0.99)]
        marks = [
            session.scalar(
                select(Datafile.path)
                .where(Datafile.dataset_id == big)
                .order_by(Datafile.path)
                .offset(depth)
                .limit(1)
            )
            for depth in depths
        ]
    samples = [s for s, _ in SAMPLES]
    staff = facility.staff
    plain = facility.users
    windows = [_date_window(rng, 90) for _ in range(64)]

    def mine(session: Session, n: int) -> int:
        user = members[n % len(members)]
        page = list_investigations(
            session, user, InvestigationFilters(scope="mine"), "-start", PAGE, None
        )
        return len(page.items)

    def beamline(principal_of: Callable[[int], Principal]) -> Callable[[Session, int], int]:
        def call(session: Session, n: int) -> int:
            (instrument_id,) = staff[n % len(staff)].instrument_ids
            name = next(k for k, v in facility.instruments.items() if v == instrument_id)
            after, before = windows[n % len(windows)]
            filters = DatasetFilters(instrument=name, start_after=after, start_before=before)
            page = list_datasets(session, principal_of(n), filters, "-start", PAGE, None)
            return len(page.items)

        return call

    def text_params(principal_of: Callable[[int], Principal]) -> Callable[[Session, int], int]:
        def call(session: Session, n: int) -> int:
            filters = DatasetFilters(
                q=samples[n % len(samples)],
                param=[
                    f"wavelength < {rng.choice((0.1, 0.12, 1))} nm",
                    f"exposure_time <= {rng.choice((10, 100, 500))} ms",
                ],
            )
            page = list_datasets(session, principal_of(n), filters, "-start", PAGE, None)
            return len(page.items)

        return call

    def facets(
        principal_of: Callable[[int], Principal], text: bool
    ) -> Callable[[Session, int], int]:
        def call(session: Session, n: int) -> int:
            filters = DatasetFilters(q=samples[n % len(samples)] if text else None)
            return dataset_facets(session, principal_of(n), filters).total

        return call

    def file_page(session: Session, n: int) -> int:
        cursor = encode_cursor([marks[n % len(marks)]])
        page = list_files(session, facility.manager, big, PAGE, cursor)
        return len(page.items)

    def first_page(session: Session, n: int) -> int:
        page = list_datasets(session, ANONYMOUS, DatasetFilters(), "-start", PAGE, None)
        return len(page.items)

    def user(n: int) -> Principal:
        return members[n % len(members)]

    def manager(n: int) -> Principal:
        return facility.manager

    queries: list[tuple[str, Callable[[Session, int], int]]] = [
        ("my investigations (user)", mine),
        ("beamline datasets, 90 days (staff)", beamline(lambda n: staff[n % len(staff)])),
        ("beamline datasets, 90 days (user)", beamline(lambda n: plain[(n * 7) % len(plain)])),
        ("text + 2 unit conditions (user)", text_params(user)),
        ("text + 2 unit conditions (manager)", text_params(manager)),
        ("facets, whole catalogue (anonymous)", facets(lambda n: ANONYMOUS, False)),
        ("facets, whole catalogue (user)", facets(user, False)),
        ("facets, whole catalogue (manager)", facets(manager, False)),
        ("facets, text query (user)", facets(user, True)),
        ("facets, text query (manager)", facets(manager, True)),
        (f"page of {big_files:,}-file dataset (cursor)", file_page),
        ("first dataset page (anonymous)", first_page),
    ]
    return [time_query(sessions, name, runs, call) for name, call in queries]
