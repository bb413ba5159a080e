"""The HDF5 viewer's endpoints against h5grove's own server and Tiled, on one file.

Writes a 100-frame 1024x1024 uint16 gzip stack (one chunk per frame; Poisson noise
and a few bright peaks, so it compresses as detector frames do), then serves it from
    - fairbeam: `fairbeam serve` on a fresh SQLite catalogue holding the file,
    - h5grove: its FastAPI router under uvicorn, in its venv bench/.peers/h5grove,
    - Tiled: `tiled serve directory`, in its venv bench/.peers/tiled,
and times with one keep-alive httpx client sending a browser's Accept-Encoding:
a frame as h5web asks for it (`format=bin&dtype=safe`, frames in turn, decoded and
checked against numpy), `/meta/` of a group and `/attr/` of a group.

    .venv/bin/python bench/viewer.py [--requests 200] [--frames 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import h5py
import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import TILED, Peer, ensure_peer, peer_version  # noqa: E402

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
FAIRBEAM = ROOT / ".venv" / "bin" / "fairbeam"
RESULTS = Path(__file__).resolve().parent / "results"
H5GROVE = Peer("h5grove", ("h5grove[fastapi]", "uvicorn[standard]", "hdf5plugin"), "h5grove")
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
STACK = "/entry/instrument/detector/data"
GROUP = "/entry"
console = Console(width=150)


# --- The file -------------------------------------------------------------------------


def detector_frame(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A frame as a photon-counting detector records it: low Poisson background, a few
    Bragg-like peaks, dead gaps between modules."""
    frame = rng.poisson(1.5, shape).astype(np.uint16)
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    for _ in range(12):
        y, x = rng.integers(16, shape[0] - 16), rng.integers(16, shape[1] - 16)
        spot = 3000 * np.exp(-((rows - y) ** 2 + (cols - x) ** 2) / 6.0)
        frame += rng.poisson(spot).astype(np.uint16)
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
def running(command: list[str], env: dict[str, str], ready: str, log: Path) -> Iterator[None]:
    """Run a server until the block ends; wait until ``ready`` answers 200."""
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
        yield
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


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


H5GROVE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from h5grove.fastapi_utils import router, settings
settings.base_dir = sys.argv[1]
app = FastAPI()
app.include_router(router)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="info")
"""


# --- Measurement ----------------------------------------------------------------------


@dataclass
class Timings:
    """Milliseconds per request of each kind, and bytes on the wire per frame."""

    frame: list[float] = field(default_factory=list)
    frame_received: list[float] = field(default_factory=list)
    meta: list[float] = field(default_factory=list)
    attr: list[float] = field(default_factory=list)
    wire: list[int] = field(default_factory=list)
    encoding: str = ""


@dataclass
class Answer:
    """One response: its decoded body, bytes on the wire, coding and times in ms."""

    body: bytes
    wire: int
    coding: str
    received: float  # the last byte on the wire
    decoded: float  # the body decoded, as the browser must before h5web sees a value


def timed(client: httpx.Client, url: str, params: dict[str, str]) -> Answer:
    start = time.perf_counter()
    with client.stream("GET", url, params=params) as response:
        raw = b"".join(response.iter_raw())
    received = time.perf_counter()
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: {response.status_code} {raw[:300]!r}")
    coding = response.headers.get("content-encoding", "identity")
    # httpx's own decoders, the same work as response.read() does.
    decoder = httpx._decoders.SUPPORTED_DECODERS.get(coding, httpx._decoders.IdentityDecoder)()
    body = decoder.decode(raw) + decoder.flush()
    done = time.perf_counter()
    return Answer(body, len(raw), coding, (received - start) * 1000, (done - start) * 1000)


def measure(
    frame_request: Callable[[int], tuple[str, dict[str, str]]],
    meta_request: tuple[str, dict[str, str]],
    attr_request: tuple[str, dict[str, str]] | None,
    frames: list[np.ndarray],
    requests: int,
    headers: dict[str, str],
    base: str,
) -> Timings:
    """Warm up, then time ``requests`` of each kind with one keep-alive client."""
    found = Timings()
    with httpx.Client(
        base_url=base, headers={**BROWSER, **headers}, trust_env=False, timeout=60
    ) as client:
        for _ in range(5):
            timed(client, *meta_request)
        for i in range(requests):
            index = i % len(frames)
            url, params = frame_request(index)
            answer = timed(client, url, params)
            found.frame.append(answer.decoded)
            found.frame_received.append(answer.received)
            found.wire.append(answer.wire)
            found.encoding = answer.coding
            if answer.body != frames[index].tobytes():
                raise SystemExit(f"{base}: frame {index} differs from what was written")
        for _ in range(requests):
            found.meta.append(timed(client, *meta_request).decoded)
            if attr_request:
                found.attr.append(timed(client, *attr_request).decoded)
    return found


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def p50(values: list[float]) -> float:
    return percentile(values, 50)


def report(results: dict[str, Timings], versions: dict[str, str], args: argparse.Namespace) -> None:
    table = Table(
        title=f"{args.requests} requests each, one keep-alive client, {args.frames} frames"
    )
    for column in (
        "server",
        "frame p50",
        "frame p95",
        "frame p50 received",
        "frame on wire",
        "coding",
        "meta p50",
        "meta p95",
        "attr p50",
        "attr p95",
    ):
        table.add_column(column, justify="left" if column in ("server", "coding") else "right")
    for name, t in results.items():
        table.add_row(
            f"{name} {versions[name]}",
            f"{percentile(t.frame, 50):.2f} ms",
            f"{percentile(t.frame, 95):.2f} ms",
            f"{percentile(t.frame_received, 50):.2f} ms",
            f"{statistics.median(t.wire) / 1e6:.2f} MB",
            t.encoding,
            f"{percentile(t.meta, 50):.2f} ms",
            f"{percentile(t.meta, 95):.2f} ms",
            f"{percentile(t.attr, 50):.2f} ms" if t.attr else "—",
            f"{percentile(t.attr, 95):.2f} ms" if t.attr else "—",
        )
    console.print(table)
    ours = results["fairbeam"]
    for peer in ("h5grove", "tiled"):
        if peer not in results:
            continue
        theirs = results[peer]
        ratios = [
            f"{kind} {p50(getattr(theirs, kind)) / p50(getattr(ours, kind)):.2f}x"
            for kind in ("frame", "meta", "attr")
            if getattr(theirs, kind)
        ]
        console.print(f"{peer} p50 / fairbeam p50: {', '.join(ratios)}")
    grove = results.get("h5grove")
    if grove:
        frame_ok = percentile(ours.frame, 50) <= percentile(grove.frame, 50) / 2
        meta_ok = percentile(ours.meta, 50) <= percentile(grove.meta, 50)
        console.print(
            f"target: frame p50 at most half of h5grove's: {'met' if frame_ok else 'NOT met'}; "
            f"meta p50 no slower than h5grove's: {'met' if meta_ok else 'NOT met'}"
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"viewer-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "requests": args.requests,
                "frames": args.frames,
                "versions": versions,
                "load_before": os.getloadavg(),
                "results": {
                    name: {
                        key: {
                            "p50": percentile(getattr(t, key), 50),
                            "p95": percentile(getattr(t, key), 95),
                        }
                        for key in ("frame", "frame_received", "meta", "attr")
                    }
                    | {"wire_bytes": statistics.median(t.wire), "encoding": t.encoding}
                    for name, t in results.items()
                },
            },
            indent=2,
        )
    )
    console.print(f"saved {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--skip", action="append", default=[], choices=["h5grove", "tiled"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fairbeam-viewer-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    data = work / "data"
    data.mkdir()
    stack = data / "stack.h5"
    start = time.perf_counter()
    frames = write_stack(stack, args.frames, (1024, 1024))
    console.print(
        f"wrote {stack.name}: {args.frames} frames, {stack.stat().st_size / 1e6:.0f} MB "
        f"({stack.stat().st_size / (args.frames * 2 * 1024 * 1024):.0%} of raw) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    versions: dict[str, str] = {"fairbeam": "(this tree)"}
    results: dict[str, Timings] = {}

    env, tokens = fairbeam_setup(work, data, stack)
    manager, scientist = tokens.split()
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    serve = [str(FAIRBEAM), "serve", "--host", LOOPBACK, "--port", str(port)]
    with running(serve, env, f"{base}/api/health", work / "fairbeam.log"):
        file_id = fairbeam_register(base, manager, stack)
        prefix = f"/api/files/{file_id}/h5"
        results["fairbeam"] = measure(
            lambda i: (
                f"{prefix}/data",
                {"path": STACK, "selection": str(i), "format": "bin", "dtype": "safe"},
            ),
            (f"{prefix}/meta", {"path": GROUP}),
            (f"{prefix}/attr", {"path": GROUP}),
            frames,
            args.requests,
            {"Authorization": f"Bearer {scientist}"},
            base,
        )

    if "h5grove" not in args.skip:
        bin_dir = ensure_peer(H5GROVE)
        versions["h5grove"] = peer_version(H5GROVE)
        port = free_port()
        base = f"http://{LOOPBACK}:{port}"
        command = [str(bin_dir / "python"), "-c", H5GROVE_APP, str(data), str(port)]
        with running(command, loopback_env({}), f"{base}/", work / "h5grove.log"):
            file_params = {"file": stack.name}
            results["h5grove"] = measure(
                lambda i: (
                    "/data",
                    {
                        **file_params,
                        "path": STACK,
                        "selection": str(i),
                        "format": "bin",
                        "dtype": "safe",
                    },
                ),
                ("/meta", {**file_params, "path": GROUP}),
                ("/attr", {**file_params, "path": GROUP}),
                frames,
                args.requests,
                {},
                base,
            )

    if "tiled" not in args.skip:
        bin_dir = ensure_peer(TILED)
        versions["tiled"] = peer_version(TILED)
        port = free_port()
        base = f"http://{LOOPBACK}:{port}"
        command = [
            str(bin_dir / "tiled"),
            "serve",
            "directory",
            str(data),
            "--public",
            "--port",
            str(port),
            "--host",
            LOOPBACK,
        ]
        with running(
            command, loopback_env({}), f"{base}/api/v1/metadata/stack{GROUP}", work / "tiled.log"
        ):
            results["tiled"] = measure(
                lambda i: (
                    f"/api/v1/array/full/stack{STACK}",
                    {"slice": f"{i},:,:", "format": "application/octet-stream"},
                ),
                (f"/api/v1/metadata/stack{GROUP}", {}),
                None,
                frames,
                args.requests,
                {},
                base,
            )
    report(results, versions, args)


if __name__ == "__main__":
    main()
