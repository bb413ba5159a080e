"""The servers of bench/viewer.py on one HDF5 stack: fairbeam, h5grove, Tiled, and the
floor, a bare ASGI app sending each frame's stored bytes from memory (what no server
can beat), each in its own process and process group."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import h5py
import httpx
import numpy as np

from peers import H5GROVE, TILED, ensure_peer, peer_version

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
FAIRBEAM = ROOT / ".venv" / "bin" / "fairbeam"
STACK = "/entry/instrument/detector/data"
GROUP = "/entry"


# --- The file -------------------------------------------------------------------------


def detector_frame(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A frame as a photon-counting detector records it: low Poisson background, a few
    Bragg-like peaks, dead gaps between modules."""
    frame = rng.poisson(1.5, shape).astype(np.uint16)
    rows, cols = np.ogrid[-16:17, -16:17]
    spot = 3000 * np.exp(-(rows**2 + cols**2) / 6.0)  # nothing left 16 pixels out
    for _ in range(12):
        y, x = rng.integers(16, shape[0] - 16), rng.integers(16, shape[1] - 16)
        frame[y - 16 : y + 17, x - 16 : x + 17] += rng.poisson(spot).astype(np.uint16)
    frame[:, shape[1] // 2 - 4 : shape[1] // 2 + 4] = 0  # the gap between two modules
    return frame


def write_stack(path: Path, frames: int, shape: tuple[int, int]) -> list[np.ndarray]:
    """Write the stack (gzip, one chunk per frame) under an NXentry; return the frames."""
    rng = np.random.default_rng(2024)
    written = []
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry")
        entry.attrs.update({"NX_class": "NXentry", "default": "data", "title": "bench stack"})
        detector = entry.create_group("instrument").create_group("detector")
        detector.attrs["NX_class"] = "NXdetector"
        data = detector.create_dataset(
            "data", (frames, *shape), dtype="u2", chunks=(1, *shape), compression="gzip"
        )
        data.attrs["units"] = "counts"
        for i in range(frames):
            written.append(detector_frame(rng, shape))
            data[i] = written[-1]
        nxdata = entry.create_group("data")
        nxdata.attrs.update({"NX_class": "NXdata", "signal": "data"})
        nxdata["data"] = h5py.SoftLink(STACK)
    return written


# --- Servers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def loopback_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
    return {**env, **extra}


@contextmanager
def running(command: list[str], env: dict[str, str], ready: str, log: Path) -> Iterator[int]:
    """Run a server until the block ends; wait until ``ready`` answers 200; give its
    process group."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(trust_env=False, timeout=5) as client:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{command[0]} exited: {log.read_text()[-2000:]}")
                try:
                    if client.get(ready).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{command[0]} did not answer {ready} within 120 s")
                time.sleep(0.2)
        yield process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


def _stats() -> Iterator[tuple[int, int, int, str, int]]:
    """Each process's pid, parent, process group, command and CPU ticks (user and
    system)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        command, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")")[-1]
        # After the command: state, ppid, pgrp ...; utime and stime at 11 and 12.
        ppid, pgrp, utime, stime = (int(fields.split()[i]) for i in (1, 2, 11, 12))
        yield int(stat.parent.name), ppid, pgrp, command, utime + stime


def cpu_ms(group: int) -> float:
    """CPU time (user and system, in ms) the processes of a process group used so far."""
    ticks = sum(cpu for _, _, pgrp, _, cpu in _stats() if pgrp == group)
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def chromium_cpu_ms() -> float:
    """CPU time (ms) used so far by the Chromium processes this process started (through
    Playwright's driver, whose own time is left out)."""
    stats = list(_stats())
    children: dict[int, list[int]] = {}
    for pid, ppid, _, _, _ in stats:
        children.setdefault(ppid, []).append(pid)
    mine, todo = set(), list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        mine.add(pid)
        todo += children.get(pid, [])
    ticks = sum(cpu for pid, _, _, command, cpu in stats if pid in mine and command == "chromium")
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def fairbeam_setup(work: Path, data: Path, stack: Path) -> tuple[dict[str, str], str]:
    """A catalogue with a manager, a scientist and the stack in her embargoed proposal;
    the environment to serve it and the scientist's token."""
    env = loopback_env(
        {
            "FAIRBEAM_DATABASE_URL": f"sqlite:///{work / 'fairbeam.db'}",
            "FAIRBEAM_DATA_ROOTS": str(data),
            "FAIRBEAM_STORAGE": str(work / "storage"),
            "FAIRBEAM_ARCHIVE": str(work / "archive"),
            "FAIRBEAM_VAR": str(work / "var"),
        }
    )

    def cli(*args: str) -> str:
        done = subprocess.run(
            [str(FAIRBEAM), *args], env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode:
            raise SystemExit(f"fairbeam {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout.strip()

    cli("db", "upgrade")
    cli("user", "add", "manager", "--role", "manager")
    cli("user", "add", "scientist")
    tokens = {
        name: json.loads(cli("token", "create", name, "--json"))["token"]
        for name in ("manager", "scientist")
    }
    return env, tokens["manager"] + " " + tokens["scientist"]


def fairbeam_register(url: str, manager: str, stack: Path) -> int:
    """Register the stack through the API; return its datafile id."""
    headers = {"Authorization": f"Bearer {manager}"}
    with httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=30) as client:
        for method, path, body in (
            ("POST", "/api/instruments", {"name": "ID00", "techniques": ["imaging"]}),
            (
                "POST",
                "/api/investigations",
                {
                    "code": "BENCH-1",
                    "title": "Viewer benchmark",
                    "instrument": "ID00",
                    "start": "2026-01-05T08:00:00Z",
                    "end": "2026-01-07T08:00:00Z",
                    "participants": [{"username": "scientist", "role": "principal_investigator"}],
                },
            ),
            (
                "POST",
                "/api/datasets",
                {
                    "investigation": "BENCH-1",
                    "name": "stack",
                    "location": str(stack.parent),
                    "technique": "imaging",
                    "files": [{"path": stack.name, "size": stack.stat().st_size}],
                },
            ),
        ):
            response = client.request(method, path, json=body)
            if response.status_code >= 300:
                raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        dataset = response.json()["id"]
        files = client.get(f"/api/datasets/{dataset}/files").json()["items"]
        return int(files[0]["id"])


# As `fairbeam serve --no-access-log` runs: httptools on the asyncio loop, one process,
# uvicorn's log at info without a line per request.
H5GROVE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from h5grove.fastapi_utils import router, settings
settings.base_dir = sys.argv[1]
app = FastAPI()
app.include_router(router)
uvicorn.run(
    app, host="127.0.0.1", port=int(sys.argv[2]), workers=1, http="httptools",
    loop="asyncio", log_level="info", access_log=False,
)
"""


@dataclass
class Server:
    """A running server and the URLs (path and query) of each kind of request."""

    name: str
    version: str
    pid: int  # of its process group
    base: str
    headers: dict[str, str]
    frame: Callable[[int], str]
    meta: str
    attr: str | None


def url(route: str, **params: str) -> str:
    return f"{route}?{urlencode(params)}" if params else route


def start_fairbeam(stack: ExitStack, work: Path, data: Path, path: Path) -> Server:
    env, tokens = fairbeam_setup(work, data, path)
    manager, scientist = tokens.split()
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    serve = [str(FAIRBEAM), "serve", "--host", LOOPBACK, "--port", str(port), "--no-access-log"]
    pid = stack.enter_context(running(serve, env, f"{base}/api/health", work / "fairbeam.log"))
    prefix = f"/api/files/{fairbeam_register(base, manager, path)}/h5"
    return Server(
        "fairbeam",
        "(this tree)",
        pid,
        base,
        {"Authorization": f"Bearer {scientist}"},
        lambda i: url(f"{prefix}/data/", path=STACK, selection=str(i), format="bin", dtype="safe"),
        url(f"{prefix}/meta/", path=GROUP),
        url(f"{prefix}/attr/", path=GROUP),
    )


def start_h5grove(stack: ExitStack, work: Path, data: Path, path: Path) -> Server:
    bin_dir = ensure_peer(H5GROVE)
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    command = [str(bin_dir / "python"), "-c", H5GROVE_APP, str(data), str(port)]
    pid = stack.enter_context(running(command, loopback_env({}), f"{base}/", work / "h5grove.log"))
    name = path.name
    return Server(
        "h5grove",
        peer_version(H5GROVE),
        pid,
        base,
        {},
        lambda i: url("/data", file=name, path=STACK, selection=str(i), format="bin", dtype="safe"),
        url("/meta", file=name, path=GROUP),
        url("/attr", file=name, path=GROUP),
    )


def start_tiled(stack: ExitStack, work: Path, data: Path, path: Path) -> Server:
    bin_dir = ensure_peer(TILED)
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    command = [str(bin_dir / "tiled"), "serve", "directory", str(data), "--public"]
    command += ["--port", str(port), "--host", LOOPBACK]
    node = path.stem
    meta = f"/api/v1/metadata/{node}{GROUP}"
    pid = stack.enter_context(running(command, loopback_env({}), base + meta, work / "tiled.log"))
    return Server(
        "tiled",
        peer_version(TILED),
        pid,
        base,
        {},
        lambda i: url(
            f"/api/v1/array/full/{node}{STACK}",
            slice=f"{i},:,:",
            format="application/octet-stream",
        ),
        meta,
        None,
    )


# The floor: every frame's stored zlib stream read once, then sent from memory with
# `Content-Encoding: deflate` (or, raw, inflated beforehand and sent as it is) under the
# same uvicorn settings; `/meta` and `/attr` answer a few bytes of JSON. Its times are
# those of HTTP and the client alone.
FLOOR_APP = """
import sys, zlib, h5py, uvicorn
with h5py.File(sys.argv[1], "r", locking=False) as f:
    dataset = f[sys.argv[3]]
    chunks = [dataset.id.read_direct_chunk((i, 0, 0))[1] for i in range(dataset.shape[0])]
DEFLATE = [(b"content-type", b"application/octet-stream"), (b"content-encoding", b"deflate")]
if sys.argv[4] == "raw":
    chunks = [zlib.decompress(chunk) for chunk in chunks]
    DEFLATE = DEFLATE[:1]
JSON = [(b"content-type", b"application/json")]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/data":
        body, headers = chunks[int(scope["query_string"].decode().partition("=")[2])], DEFLATE
    else:
        body, headers = b'{"floor":true}', JSON
    length = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers + length})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(
    app, host="127.0.0.1", port=int(sys.argv[2]), workers=1, http="httptools",
    loop="asyncio", log_level="info", access_log=False,
)
"""


def start_floor(
    stack: ExitStack, work: Path, data: Path, path: Path, *, raw: bool = False
) -> Server:
    """The floor sending stored zlib streams, or with ``raw`` the frames inflated."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    mode = "raw" if raw else "deflate"
    command = [sys.executable, "-c", FLOOR_APP, str(path), str(port), STACK, mode]
    log = work / f"floor-{mode}.log"
    pid = stack.enter_context(running(command, loopback_env({}), f"{base}/", log))
    return Server(
        "floor, raw" if raw else "floor",
        "(inflated frames from memory)" if raw else "(stored streams from memory)",
        pid,
        base,
        {},
        lambda i: url("/data", i=str(i)),
        "/meta",
        "/attr",
    )
