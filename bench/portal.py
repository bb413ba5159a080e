"""Portal render benchmark: the time from navigation to the list's rows being visible in
Chromium, on an existing big catalogue.

    python bench/portal.py                   # the 1,000,000-dataset PostgreSQL catalogue
    python bench/portal.py --datasets 20000 --runs 20
    python bench/portal.py --url URL --token TOKEN   # also as a logged-in user

The catalogue is one that bench/catalogue.py built (same database name per size) and is
only read: the server runs without `fairbeam db upgrade`, and nothing is written to it.
Each page is opened once to warm the browser's cache of the portal's files, then timed
over `--runs` navigations, varying the beamline. Results are printed as a table and
written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PORTAL = REPO / "frontend" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
console = Console()


@dataclass
class Render:
    """Navigation-to-visible-rows times of one page, in milliseconds."""

    page: str
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    rows: int


def default_url(datasets: int) -> str:
    """The PostgreSQL catalogue bench/catalogue.py builds for that size."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/fb_bench_{datasets}"


def count_datasets(url: str) -> int:
    """How many datasets the catalogue holds (one read-only query)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        count = int(connection.scalar(text("SELECT count(*) FROM dataset")) or 0)
    engine.dispose()
    return count


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(url: str, var: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The application under uvicorn, as `fairbeam serve` runs it but without migrating."""
    port = free_port()
    env = {
        **os.environ,
        "FAIRBEAM_DATABASE_URL": url,
        "FAIRBEAM_VAR": str(var),
        "FAIRBEAM_PORTAL_DIR": str(PORTAL),
    }
    command = [sys.executable, "-m", "uvicorn", "fairbeam.api.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not answer within 60 s")


def time_render(page: Page, url: str, row: str) -> tuple[float, int]:
    """Milliseconds from navigation to the first row being visible, and the rows shown."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    rows = page.get_by_test_id(row)
    rows.first.wait_for(state="visible", timeout=30_000)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, rows.count()


def measure(page: Page, name: str, urls: list[str], row: str, runs: int) -> Render:
    """Warm up on the first URL, then time ``runs`` navigations over ``urls`` in turn."""
    time_render(page, urls[0], row)
    times = []
    shown = 0
    for i in range(runs):
        elapsed, shown = time_render(page, urls[i % len(urls)], row)
        times.append(elapsed)
    times.sort()
    return Render(
        page=name,
        runs=runs,
        p50_ms=round(statistics.median(times), 1),
        p95_ms=round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
        max_ms=round(times[-1], 1),
        rows=shown,
    )


def busiest_instruments(base: str, count: int) -> list[str]:
    """The beamlines holding the most datasets, from the public facet counts."""
    facets = httpx.get(f"{base}/api/datasets/facets", timeout=120).json()
    return [f["value"] for f in facets["instrument"][:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1_000_000, help="catalogue size")
    parser.add_argument("--url", help="database URL (default: bench/catalogue.py's)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--token", help="also time the pages of a logged-in user")
    args = parser.parse_args()
    url = args.url or default_url(args.datasets)
    if not (PORTAL / "index.html").exists():
        raise SystemExit(f"the portal is not built in {PORTAL}: run `make install`")
    held = count_datasets(url)
    console.print(f"catalogue {url.rsplit('/', 1)[-1]}: {held:,} datasets")

    with tempfile.TemporaryDirectory() as var:
        server, base = start_server(url, Path(var))
        try:
            instruments = busiest_instruments(base, 5)
            console.print(f"beamlines, in turn: {', '.join(instruments)}")
            pages = [
                ("investigations: Open Data", [f"{base}/open-data"], "investigation-row"),
                ("investigations: Closed Data", [f"{base}/closed-data"], "investigation-row"),
                (
                    "datasets of a beamline",
                    [f"{base}/search?instrument={name}" for name in instruments],
                    "dataset-row",
                ),
            ]
            results: list[tuple[str, Render]] = []
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                callers: list[tuple[str, str | None]] = [("anonymous", None)]
                if args.token:
                    callers.append(("logged in", args.token))
                for caller, token in callers:
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    if token:
                        context.add_init_script(
                            f"localStorage.setItem('fairbeam.token', {json.dumps(token)})"
                        )
                    page = context.new_page()
                    for name, urls, row in pages:
                        results.append((caller, measure(page, name, urls, row, args.runs)))
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)

    table = Table(title=f"Portal render, {held:,} datasets (navigation to visible rows)")
    for column in ("caller", "page", "runs", "p50 ms", "p95 ms", "max ms", "rows"):
        table.add_column(column, justify="left" if column in ("caller", "page") else "right")
    for caller, r in results:
        table.add_row(
            caller, r.page, str(r.runs), f"{r.p50_ms:.0f}", f"{r.p95_ms:.0f}", f"{r.max_ms:.0f}",
            str(r.rows),
        )  # fmt: skip
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"portal-{held}.json"
    out.write_text(
        json.dumps(
            {
                "datasets": held,
                "machine": platform.node(),
                "python": platform.python_version(),
                "results": [{"caller": c, **asdict(r)} for c, r in results],
            },
            indent=2,
        )
    )
    console.print(f"written to {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
