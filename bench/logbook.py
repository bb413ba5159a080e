"""Logbook at the ESRF's scale: 150,000 events over 150 investigations (one with 20,000
notifications) written through the API by concurrent software clients in batches, more
events through the same service path up to 1,000,000, then timed through the API: the
newest page, a page around a date, and full-text search.

    .venv/bin/python bench/logbook.py --engine sqlite
    .venv/bin/python bench/logbook.py --engine postgresql
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from fairbeam.access.models import Role
from fairbeam.access.policy import SYSTEM
from fairbeam.access.service import create_token, create_user
from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.db import make_engine, make_sessionmaker, upgrade_database
from fairbeam.db.base import utcnow
from fairbeam.logbook.models import LogbookEvent
from fairbeam.logbook.schemas import EventIn
from fairbeam.logbook.service import post_events

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WORDS = [f"{a}{b}" for a in ("al", "be", "ga", "de", "ep", "ze", "et", "th") for b in range(250)]
TERMS = ["beam", "sample", "scan", "detector", "energy", "alignment", "crystal", "frame"]


def sentence(rng: random.Random) -> str:
    """Words of a notification: common terms and words of varied frequency."""
    common = rng.sample(TERMS, 2)
    rare = [WORDS[min(int(rng.paretovariate(1.2)) - 1, len(WORDS) - 1) * 7 % len(WORDS)]]
    rare += rng.sample(WORDS, 3)
    return f"{common[0]} {rare[0]} {rare[1]} {common[1]} {rare[2]} {rare[3]} done"


def database(engine_name: str, folder: Path) -> str:
    if engine_name == "sqlite":
        return f"sqlite:///{folder / 'logbook.db'}"
    name = f"fb_bench_logbook_{uuid.uuid4().hex[:8]}"
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def facility(url: str, investigations: int) -> tuple[str, str, list[str]]:
    """Beamlines, investigations, a software token bound to them and a manager token."""
    engine = make_engine(url)
    upgrade_database(engine)
    with make_sessionmaker(engine)() as session:
        names = [f"ID{n:02d}" for n in range(10, 20)]
        session.add_all(Instrument(name=n) for n in names)
        session.flush()
        ids = [i.id for i in session.scalars(select(Instrument))]
        now = utcnow()
        codes = [f"MX-{n:05d}" for n in range(investigations)]
        session.add_all(
            Investigation(
                code=code,
                title=f"Investigation {code}",
                instrument_id=ids[n % len(ids)],
                start=now - timedelta(days=2),
                end=now + timedelta(days=2),
            )
            for n, code in enumerate(codes)
        )
        software = create_user(session, "bliss", role=Role.software, instruments=names)
        manager = create_user(session, "maria", role=Role.manager)
        tokens = create_token(session, software), create_token(session, manager)
        session.commit()
    engine.dispose()
    return tokens[0], tokens[1], codes


def serve(url: str, folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "FAIRBEAM_DATABASE_URL": url, "FAIRBEAM_VAR": str(folder)}
    uvicorn = Path(sys.executable).parent / "uvicorn"
    command = [str(uvicorn), "fairbeam.api.app:create_app", "--factory", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/api/health", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def plan(
    codes: list[str], total: int, big: int, batch: int, rng: random.Random
) -> list[list[dict[str, object]]]:
    """Batches of notifications: ``big`` in the first investigation, the rest spread."""
    batches = []
    for start in range(0, big, batch):
        batches.append([(codes[0], n) for n in range(start, min(big, start + batch))])
    rest = total - big
    per = rest // (len(codes) - 1)
    for code in codes[1:]:
        for start in range(0, per, batch):
            batches.append([(code, n) for n in range(start, min(per, start + batch))])
    rng.shuffle(batches)
    return [
        [
            {
                "investigation": code,
                "type": "notification",
                "category": rng.choice(["info", "commandLine", "debug", "error"]),
                "format": "text",
                "content": f"#{n} {sentence(rng)}",
                "software": "bliss",
            }
            for code, n in items
        ]
        for items in batches
    ]


def write(base: str, token: str, batches: list[list[dict[str, object]]], clients: int) -> float:
    """Events per second written by ``clients`` concurrent software clients."""
    queue = list(batches)
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    events = queue.pop()
                response = http.post(
                    "/api/logbook/events/batch",
                    json={"events": events},
                    headers={"Authorization": f"Bearer {token}"},
                )
                response.raise_for_status()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(len(b) for b in batches) / (time.perf_counter() - started)


def fill(url: str, codes: list[str], total: int, batch: int, rng: random.Random) -> float:
    """More events through the service path, up to ``total``; events per second."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        have = session.scalar(select(text("count(*)")).select_from(LogbookEvent)) or 0
        started, written = time.perf_counter(), 0
        while have + written < total:
            code = rng.choice(codes[1:])
            count = min(batch, total - have - written)
            events = [
                EventIn(
                    investigation=code,
                    type="notification",
                    format="text",
                    content=f"#{n} {sentence(rng)}",
                )
                for n in range(count)
            ]
            post_events(session, SYSTEM, events)
            session.commit()
            written += count
        rate = written / (time.perf_counter() - started) if written else 0.0
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE logbook_event"))
    engine.dispose()
    return rate


def analyze(url: str) -> None:
    """Vacuum and analyse PostgreSQL after the write phase, as autovacuum does on a
    server that has run for a while: the planner's estimates otherwise date from an
    empty table, and autovacuum would start during the timed reads."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def timed(http: httpx.Client, token: str, params_of: object, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        params = params_of()  # type: ignore[operator]
        started = time.perf_counter()
        response = http.get(
            "/api/logbook/events", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--investigations", type=int, default=150)
    parser.add_argument("--big", type=int, default=20_000)
    parser.add_argument("--search-events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(5)
    folder = Path(tempfile.mkdtemp(prefix="fb-bench-logbook-"))
    url = database(args.engine, folder)
    software, manager, codes = facility(url, args.investigations)
    server, base = serve(url, folder, args.workers)
    rows = []
    try:
        batches = plan(codes, args.events, args.big, args.batch, rng)
        rate = write(base, software, batches, args.clients)
        analyze(url)
        rows.append(
            (
                f"write {args.events:,} events in batches of {args.batch} over HTTP",
                f"{rate:,.0f} events/s",
                "",
            )
        )
        with httpx.Client(base_url=base, timeout=60) as http:
            big = {"investigation": codes[0], "limit": 50}
            first = http.get(
                "/api/logbook/events",
                params={**big, "order": "asc", "limit": 1},
                headers={"Authorization": f"Bearer {manager}"},
            ).json()["items"][0]
            start = first["created"]
            last = http.get(
                "/api/logbook/events",
                params={**big, "limit": 1},
                headers={"Authorization": f"Bearer {manager}"},
            ).json()["items"][0]["created"]

            t0, t1 = datetime.fromisoformat(start), datetime.fromisoformat(last)

            def around() -> dict[str, object]:
                moment = t0 + (t1 - t0) * rng.random()
                return {**big, "around": moment.isoformat()}

            cases = [
                (f"newest page of the {args.big:,}-event logbook", lambda: big),
                (f"page around a date in the {args.big:,}-event logbook", around),
                (
                    "newest page of another logbook",
                    lambda: {"investigation": rng.choice(codes[1:])},
                ),
            ]
            for name, params in cases:
                p50, p95 = timed(http, manager, params, args.runs)
                rows.append((name, f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms"))
        fill_rate = fill(url, codes, args.search_events, 5000, rng)
        rows.append(
            (
                f"fill to {args.search_events:,} events (service path)",
                f"{fill_rate:,.0f} events/s",
                "",
            )
        )
        with httpx.Client(base_url=base, timeout=60) as http:
            searches = [
                (
                    f"search one logbook, {args.search_events:,} events",
                    lambda: {"investigation": rng.choice(codes), "q": rng.choice(WORDS)},
                ),
                (
                    "search one logbook, two words",
                    lambda: {
                        "investigation": codes[0],
                        "q": f"{rng.choice(TERMS)} {rng.choice(WORDS)}",
                    },
                ),
                (
                    f"search every logbook, {args.search_events:,} events",
                    lambda: {"q": f"{rng.choice(WORDS)} {rng.choice(WORDS)}"},
                ),
                ("newest page of the big logbook at 1M", lambda: {"investigation": codes[0]}),
            ]
            for name, params in searches:
                p50, p95 = timed(http, manager, params, args.runs)
                rows.append((name, f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nlogbook on {args.engine} ({os.cpu_count()} CPUs, load average {load})")
    width = max(len(r[0]) for r in rows)
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>18}  {b:>14}")


if __name__ == "__main__":
    main()
