"""Tiled's side of bench/harvest.py: `tiled register` into a `tiled serve catalog` server."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from _harvest_files import Tree
from _harvest_run import LOOPBACK, Run, check, free_port, loopback_env, run_timed, session_cpu
from peers import TILED, ensure_tiled, peer_version

API_KEY = "secret"


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


def stop_server(process: subprocess.Popen[bytes], grace: float = 30) -> float:
    """Stop the server's process group, killing it after ``grace`` s; return its peak RSS in MB."""
    usage = None
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        while usage is None:
            pid, _, found = os.wait4(process.pid, os.WNOHANG)
            if pid:
                usage = found
            elif time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                _, _, usage = os.wait4(process.pid, 0)
            else:
                time.sleep(0.1)
        process.returncode = -1  # reaped here: Popen must not wait for it again
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything the server left behind
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
        print(f"tiled register {url} {tree.root}", flush=True)
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
