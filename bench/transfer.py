"""Download benchmark: fairbeam against nginx on the same files, in the same run.

    python bench/transfer.py                    # 2 GB file, 100 x 10 MB, 200,000-file zip
    python bench/transfer.py --zip-files 20000  # a smaller zip

- one 2 GB file over one connection (curl, page cache warm), fairbeam and nginx in turn;
- 100 concurrent clients each downloading a 10 MB file (one curl --parallel);
- a streamed zip of a dataset of --zip-files files (time to first byte and MB/s);
- the server's peak RSS during each, sampled every 10 ms.

fairbeam runs as `fairbeam serve` does (uvicorn, sendfile through the zero-copy
extension); nginx is Debian's package with `sendfile on`, started here on loopback with
a config written here, and stopped at the end. Every file lives under a temporary
folder, deleted at the end. Results are printed as a table and written to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from fairbeam.access.models import Role
from fairbeam.access.service import create_token, create_user, principal_of
from fairbeam.catalogue.models import Datafile, Instrument, Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.db import make_engine, make_sessionmaker, upgrade_database
from fairbeam.storage.checksums import file_checksum

RESULTS = Path(__file__).parent / "results"
VENV_BIN = Path(sys.executable).parent
console = Console(width=160)
MB = 1_000_000


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_file(path: Path, size: int, block: bytes) -> None:
    """A file of ``size`` bytes made of ``block`` repeated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))


def build(root: Path, big_bytes: int, clients: int, zip_files: int, zip_bytes: int) -> None:
    """The files: one big file, one 10 MB file per client, a dataset of many small files."""
    block = os.urandom(16 * 1024 * 1024)
    write_file(root / "big" / "big.bin", big_bytes, block)
    for index in range(clients):
        write_file(root / "small" / f"file_{index:03d}.bin", 10 * MB, block[index:])
    many = root / "many"
    for index in range(zip_files):
        folder = many / f"part_{index // 1000:03d}"
        if index % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        offset = (index * 7919) % (len(block) - zip_bytes)
        (folder / f"frame_{index:06d}.edf").write_bytes(block[offset : offset + zip_bytes])


def register(
    database_url: str, root: Path, clients: int, zip_files: int, zip_bytes: int
) -> dict[str, Any]:
    """A released investigation with the three datasets, and a token to download them."""
    engine = make_engine(database_url)
    upgrade_database(engine)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        session.add(Instrument(name="ID00", full_name="Benchmark beamline", techniques=["MX"]))
        session.flush()
        instrument = session.scalar(select(Instrument).where(Instrument.name == "ID00"))
        assert instrument is not None
        session.add(
            Investigation(
                code="BENCH-1",
                title="Downloads",
                instrument_id=instrument.id,
                start=now - timedelta(days=10),
                release_date=now - timedelta(days=1),
            )
        )
        user = create_user(session, "bencher", role=Role.manager)
        session.flush()
        token = create_token(session, user, name="bench")
        manager = principal_of(session, user)
        big = root / "big" / "big.bin"
        small = sorted((root / "small").iterdir())
        many = [
            {"path": f"part_{i // 1000:03d}/frame_{i:06d}.edf", "size": zip_bytes}
            for i in range(zip_files)
        ]
        items = [
            DatasetIn(
                investigation="BENCH-1",
                name="big",
                location=str(big.parent),
                files=[
                    {"path": "big.bin", "size": big.stat().st_size, "checksum": file_checksum(big)}
                ],
            ),
            DatasetIn(
                investigation="BENCH-1",
                name="small",
                location=str(root / "small"),
                files=[{"path": p.name, "size": p.stat().st_size} for p in small],
            ),
            DatasetIn(
                investigation="BENCH-1", name="many", location=str(root / "many"), files=many
            ),
        ]
        ids = [r.id for r in register_datasets(session, manager, items)]
        session.commit()
        files = dict(
            session.execute(
                select(Datafile.path, Datafile.id).where(Datafile.dataset_id.in_(ids[:2]))
            ).all()
        )
    engine.dispose()
    return {
        "token": token,
        "big": files["big.bin"],
        "small": [files[p.name] for p in small],
        "many": ids[2],
    }


class RssSampler:
    """The peak resident memory of a process, sampled in a thread while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.running = False
        self.thread: threading.Thread | None = None

    def rss(self) -> int:
        """The process's resident memory now, in bytes."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.01)

    @contextmanager
    def sampling(self) -> Iterator[RssSampler]:
        """Sample while the block runs; ``peak`` holds the highest value after it."""
        self.peak = self.rss()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        try:
            yield self
        finally:
            self.running = False
            self.thread.join()


def curl(url: str, headers: dict[str, str]) -> dict[str, float]:
    """One download to /dev/null: bytes, seconds, time to first byte, status."""
    args = [
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download} %{time_total} %{time_starttransfer}",
    ]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout.split()
    return {
        "status": float(out[0]),
        "bytes": float(out[1]),
        "seconds": float(out[2]),
        "first": float(out[3]),
    }


def curl_parallel(urls: list[str], headers: dict[str, str]) -> tuple[float, int, int]:
    """All URLs at once, one connection each: seconds, bytes and errors."""
    args = ["curl", "-s", "--parallel", "--parallel-immediate", "--parallel-max", str(len(urls))]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    for url in urls:
        args += ["-o", "/dev/null", "-w", "%{http_code} %{size_download}\\n", url]
    started = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    failures = [" ".join(line) for line in lines if line[0] != "200" or int(line[1]) != 10 * MB]
    if failures:
        console.print(f"failed downloads (status, bytes): {failures[:5]}")
    errors = len(failures) + len(urls) - len(lines)
    return seconds, sum(int(size) for _, size in lines), errors


def wait_for(url: str, seconds: float = 30) -> None:
    """Return once ``url`` answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url],
            capture_output=True,
            text=True,
        )
        if result.stdout == "200":
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def fairbeam_server(folder: Path, root: Path, database_url: str) -> Iterator[tuple[str, int]]:
    """`fairbeam serve` on a free loopback port: its URL and process id."""
    port = free_port()
    env = {
        **os.environ,
        "FAIRBEAM_VAR": str(folder / "var"),
        "FAIRBEAM_DATABASE_URL": database_url,
        "FAIRBEAM_DATA_ROOTS": str(root),
        "FAIRBEAM_PORT": str(port),
    }
    log = (folder / "fairbeam.log").open("w")
    process = subprocess.Popen(
        [str(VENV_BIN / "fairbeam"), "serve"], env=env, stdout=log, stderr=log
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/health")
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        log.close()
        problems = [
            line for line in (folder / "fairbeam.log").read_text().splitlines() if "rror" in line
        ]
        if problems:
            console.print("server log:", *problems[:10], sep="\n  ")


@contextmanager
def nginx_server(folder: Path, root: Path) -> Iterator[tuple[str, int]]:
    """Debian's nginx on a free loopback port with sendfile on: its URL and worker pid."""
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"worker_processes 1; daemon on; pid {folder}/nginx.pid; error_log {folder}/nginx.err;\n"
        "events { worker_connections 1024; }\n"
        "http { access_log off; sendfile on; tcp_nopush on; keepalive_timeout 30;\n"
        f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n"
    )
    subprocess.run(["nginx", "-c", str(conf), "-p", str(folder)], check=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/small/file_000.bin")
        master = int((folder / "nginx.pid").read_text())
        worker = int(
            subprocess.run(
                ["pgrep", "-P", str(master)], capture_output=True, text=True
            ).stdout.split()[0]
        )
        yield url, worker
    finally:
        subprocess.run(["nginx", "-c", str(conf), "-p", str(folder), "-s", "quit"], check=False)


def best_of(runs: int, fetch: Any) -> dict[str, float]:
    """The fastest of ``runs`` downloads (on a shared machine, the least disturbed)."""
    results = [fetch() for _ in range(runs)]
    return max(results, key=lambda r: r["bytes"] / r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big-gb", type=float, default=2.0, help="Size of the big file (GB).")
    parser.add_argument("--clients", type=int, default=100, help="Concurrent clients.")
    parser.add_argument(
        "--zip-files", type=int, default=200_000, help="Files in the zipped dataset."
    )
    parser.add_argument("--zip-kib", type=int, default=32, help="Size of each zipped file (KiB).")
    parser.add_argument("--runs", type=int, default=3, help="Runs of each single download.")
    args = parser.parse_args()
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="fairbeam-bench-transfer-"))
    folder.chmod(0o755)  # nginx's workers run as nobody
    root = folder / "data"
    rows: list[dict[str, Any]] = []
    try:
        started = time.perf_counter()
        build(root, int(args.big_gb * 1e9), args.clients, args.zip_files, args.zip_kib * 1024)
        database_url = f"sqlite:///{folder}/fairbeam.db"
        ids = register(database_url, root, args.clients, args.zip_files, args.zip_kib * 1024)
        console.print(f"files written and registered in {time.perf_counter() - started:.0f} s")
        subprocess.run(
            ["cat", str(root / "big" / "big.bin")], stdout=subprocess.DEVNULL, check=True
        )
        auth = {"Authorization": f"Bearer {ids['token']}"}
        with (
            fairbeam_server(folder, root, database_url) as (fb_url, fb_pid),
            nginx_server(folder, root) as (ng_url, ng_pid),
        ):
            fb_rss, ng_rss = RssSampler(fb_pid), RssSampler(ng_pid)
            idle = fb_rss.rss()
            # One connection, the big file; the servers take turns.
            with fb_rss.sampling():
                fb_big = best_of(
                    args.runs, lambda: curl(f"{fb_url}/api/files/{ids['big']}/content", auth)
                )
            with ng_rss.sampling():
                ng_big = best_of(args.runs, lambda: curl(f"{ng_url}/big/big.bin", {}))
            rows.append(
                row(
                    "one connection, 2 GB file",
                    fb_big["bytes"] / fb_big["seconds"],
                    fb_rss.peak,
                    ng_big["bytes"] / ng_big["seconds"],
                    ng_rss.peak,
                    0,
                    fb_big["first"],
                )
            )
            # Many clients, one 10 MB file each.
            fb_urls = [f"{fb_url}/api/files/{i}/content" for i in ids["small"]]
            ng_urls = [f"{ng_url}/small/file_{i:03d}.bin" for i in range(args.clients)]
            with fb_rss.sampling():
                fb_s, fb_b, fb_err = curl_parallel(fb_urls, auth)
            with ng_rss.sampling():
                ng_s, ng_b, ng_err = curl_parallel(ng_urls, {})
            rows.append(
                row(
                    f"{args.clients} clients x 10 MB",
                    fb_b / fb_s,
                    fb_rss.peak,
                    ng_b / ng_s,
                    ng_rss.peak,
                    fb_err,
                    None,
                    ng_err,
                )
            )
            # The streamed zip.
            with fb_rss.sampling():
                zipped = curl(f"{fb_url}/api/datasets/{ids['many']}/archive.zip", auth)
            head = subprocess.run(
                [
                    "curl",
                    "-s",
                    "-I",
                    "-X",
                    "GET",
                    "-H",
                    f"Authorization: {auth['Authorization']}",
                    f"{fb_url}/api/datasets/{ids['many']}/archive.zip",
                ],
                capture_output=True,
                text=True,
            ).stdout
            length = next(
                int(line.split(":")[1])
                for line in head.splitlines()
                if line.lower().startswith("content-length")
            )
            zip_errors = int(zipped["status"] != 200 or zipped["bytes"] != length)
            rows.append(
                row(
                    f"zip of {args.zip_files:,} files x {args.zip_kib} KiB",
                    zipped["bytes"] / zipped["seconds"],
                    fb_rss.peak,
                    None,
                    None,
                    zip_errors,
                    zipped["first"],
                )
            )
            rows.append(
                {"case": "fairbeam idle RSS", "fairbeam_mb_s": None, "fairbeam_rss_mb": idle / MB}
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load_after = os.getloadavg()
    report(rows, load_before, load_after, args)


def row(
    case: str,
    fb: float,
    fb_rss: int,
    ng: float | None,
    ng_rss: int | None,
    errors: int,
    first: float | None,
    ng_errors: int = 0,
) -> dict[str, Any]:
    """One line of the table."""
    return {
        "case": case,
        "fairbeam_mb_s": fb / MB,
        "nginx_mb_s": None if ng is None else ng / MB,
        "ratio": None if ng is None else fb / ng,
        "first_byte_s": first,
        "errors": errors,
        "nginx_errors": ng_errors,
        "fairbeam_rss_mb": fb_rss / MB,
        "nginx_rss_mb": None if ng_rss is None else ng_rss / MB,
    }


def report(
    rows: list[dict[str, Any]],
    before: tuple[float, ...],
    after: tuple[float, ...],
    args: argparse.Namespace,
) -> None:
    """Print the table and write it as JSON."""
    table = Table(
        title=(
            f"downloads on {os.cpu_count()} cores; "
            f"load average {before[0]:.1f} before, {after[0]:.1f} after"
        )
    )
    for name in (
        "case",
        "fairbeam MB/s",
        "nginx MB/s",
        "ratio",
        "first byte s",
        "errors",
        "fairbeam peak RSS MB",
        "nginx peak RSS MB",
    ):
        table.add_column(name, justify="left" if name == "case" else "right")

    def show(value: Any, form: str) -> str:
        return "" if value is None else format(value, form)

    for r in rows:
        table.add_row(
            r["case"],
            show(r.get("fairbeam_mb_s"), ".0f"),
            show(r.get("nginx_mb_s"), ".0f"),
            show(r.get("ratio"), ".2f"),
            show(r.get("first_byte_s"), ".3f"),
            show(r.get("errors"), "d"),
            show(r.get("fairbeam_rss_mb"), ".0f"),
            show(r.get("nginx_rss_mb"), ".1f"),
        )
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"transfer-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(
        json.dumps(
            {"args": vars(args), "load_before": before, "load_after": after, "rows": rows}, indent=2
        )
    )
    console.print(f"written to {out}")


if __name__ == "__main__":
    main()
