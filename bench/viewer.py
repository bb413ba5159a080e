"""The HDF5 viewer's endpoints against h5grove's own server and Tiled, on one file.

Writes a 100-frame 1024x1024 uint16 gzip stack (one chunk per frame; Poisson noise
and a few bright peaks, so it compresses as detector frames do), then serves it from
    - fairbeam: `fairbeam serve --no-access-log` on a fresh SQLite catalogue,
    - h5grove: its FastAPI router in its venv bench/.peers/h5grove, under the same
      uvicorn and httptools on the same asyncio loop, one process, no access log,
    - Tiled: `tiled serve directory`, in its venv bench/.peers/tiled (for reference),
    - the floor: a bare ASGI app under the same uvicorn sending each frame's stored
      zlib stream from memory, what no server sending that stream can beat, and a
      second floor sending the frames inflated beforehand (what moving 2 MB costs),
all at once, and asks them in turn, request by request, so that the machine's load
weighs on each alike. Two clients time the same requests:
    - Python: one keep-alive httpx client sending `Accept-Encoding: gzip, deflate, br`;
      a body is received whole, then decoded once with the standard library's zlib and
      once with python-isal's isal_zlib (ISA-L's inflate), each timed;
    - the browser: headless Chromium (Debian's, driven by Playwright) in a page of each
      server's origin (cross-origin isolated, so performance.now() counts in 5 µs steps)
      runs `fetch()` then `arrayBuffer()`, as h5web does; Chromium inflates a `deflate`
      body natively.
The requests: a frame as h5web asks for it (`format=bin&dtype=safe`, frames in turn so
that none is served from a cache, each checked against numpy), `/meta/` of a group and
`/attr/` of a group. Each server's CPU time per request is read from /proc, a figure
that the machine's load stretches far less than the times.

    .venv/bin/python bench/viewer.py [--requests 200] [--frames 100] [--skip tiled]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import zlib
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import numpy as np
from isal import isal_zlib
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _viewer_browser import Tab, chromium, open_tab  # noqa: E402
from _viewer_servers import (  # noqa: E402
    ROOT,
    Server,
    chromium_cpu_ms,
    cpu_ms,
    start_fairbeam,
    start_floor,
    start_h5grove,
    start_tiled,
    write_stack,
)

RESULTS = Path(__file__).resolve().parent / "results"
ACCEPT = {"Accept-Encoding": "gzip, deflate, br"}
INFLATERS: dict[str, ModuleType] = {"zlib": zlib, "isal": isal_zlib}
console = Console(width=160)


# --- Measurement ----------------------------------------------------------------------


@dataclass
class Timings:
    """Milliseconds per request of each kind and client, bytes on the wire per frame."""

    received: list[float] = field(default_factory=list)  # last byte of a frame
    zlib: list[float] = field(default_factory=list)  # ... then inflated by zlib
    isal: list[float] = field(default_factory=list)  # ... or by isal_zlib instead
    browser: list[float] = field(default_factory=list)
    meta: list[float] = field(default_factory=list)
    attr: list[float] = field(default_factory=list)
    browser_meta: list[float] = field(default_factory=list)
    browser_attr: list[float] = field(default_factory=list)
    wire: list[int] = field(default_factory=list)
    coding: str = ""
    # The server's CPU time per frame and per pair of /meta/ and /attr/ requests (from
    # the Python client): what load on the machine does not stretch.
    cpu_frame: float = float("nan")
    cpu_group: float = float("nan")
    # CPU time of Chromium's processes per frame (its part of Playwright's call included).
    cpu_browser: float = float("nan")


def get(client: httpx.Client, target: str) -> tuple[bytes, str, float]:
    """The raw body, its content coding and ms to its last byte."""
    start = time.perf_counter()
    with client.stream("GET", target) as response:
        raw = b"".join(response.iter_raw())
    received = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{target}: {response.status_code} {raw[:300]!r}")
    return raw, response.headers.get("content-encoding", "identity"), received


def decode(raw: bytes, coding: str, inflater: ModuleType) -> tuple[bytes, float]:
    """The body and ms to decode it; deflate and gzip through ``inflater``."""
    start = time.perf_counter()
    if coding == "identity":
        body = raw
    elif coding in ("deflate", "gzip"):
        stream = inflater.decompressobj(wbits=15 if coding == "deflate" else 31)
        body = stream.decompress(raw) + stream.flush()
    else:  # br: httpx's decoder whatever the inflater
        decoder = httpx._decoders.SUPPORTED_DECODERS[coding]()
        body = decoder.decode(raw) + decoder.flush()
    return body, (time.perf_counter() - start) * 1000


def measure_python(
    servers: list[Server], frames: list[np.ndarray], requests: int
) -> dict[str, Timings]:
    """Each request of each kind from one keep-alive client per server, servers in turn."""
    found = {server.name: Timings() for server in servers}
    with ExitStack() as stack:
        clients = {
            server.name: stack.enter_context(
                httpx.Client(
                    base_url=server.base,
                    headers={**ACCEPT, **server.headers},
                    trust_env=False,
                    timeout=60,
                )
            )
            for server in servers
        }
        for server in servers:  # warm up: open files, first imports
            for i in range(3):
                get(clients[server.name], server.meta)
                get(clients[server.name], server.frame(len(frames) - 1 - i))
        cpu = {server.name: cpu_ms(server.pid) for server in servers}
        for i in range(requests):
            index = i % len(frames)
            for server in servers:
                t = found[server.name]
                raw, t.coding, received = get(clients[server.name], server.frame(index))
                t.received.append(received)
                t.wire.append(len(raw))
                for name, inflater in INFLATERS.items():
                    body, ms = decode(raw, t.coding, inflater)
                    getattr(t, name).append(received + ms)
                    if body != frames[index].tobytes():
                        raise SystemExit(f"{server.name}: frame {index} differs ({name})")
        for server in servers:
            found[server.name].cpu_frame = (cpu_ms(server.pid) - cpu[server.name]) / requests
            cpu[server.name] = cpu_ms(server.pid)
        for _ in range(requests):
            for server in servers:
                t = found[server.name]
                for kind in ("meta", "attr"):
                    target = getattr(server, kind)
                    if target:
                        raw, coding, received = get(clients[server.name], target)
                        getattr(t, kind).append(received + decode(raw, coding, zlib)[1])
        for server in servers:
            found[server.name].cpu_group = (cpu_ms(server.pid) - cpu[server.name]) / requests
    return found


def measure_browser(
    servers: list[Server], frames: list[np.ndarray], requests: int, found: dict[str, Timings]
) -> None:
    """The same requests from Chromium, one page per server's origin, servers in turn; the
    CPU time of Chromium's processes per frame."""
    sums = [int(frame.sum(dtype=np.uint64)) for frame in frames]
    size = frames[0].nbytes
    with chromium() as browser:
        tabs: dict[str, Tab] = {
            server.name: open_tab(browser, server.base, server.headers) for server in servers
        }
        for server in servers:
            for i in range(3):
                tabs[server.name].fetch(server.meta)
                tabs[server.name].fetch(server.frame(len(frames) - 1 - i))
        cpu = {server.name: 0.0 for server in servers}
        for i in range(requests):
            index = i % len(frames)
            for server in servers:
                before = chromium_cpu_ms()
                fetched = tabs[server.name].fetch(server.frame(index))
                cpu[server.name] += chromium_cpu_ms() - before
                if fetched.bytes != size:
                    raise SystemExit(f"browser: {server.name}: frame {index} is {fetched.bytes} B")
                found[server.name].browser.append(fetched.ms)
        for server in servers:
            found[server.name].cpu_browser = cpu[server.name] / requests
            # The values themselves, summed in the page after the clock stopped.
            for index in range(min(len(frames), 10)):
                if tabs[server.name].fetch(server.frame(index), words=True).sum != sums[index]:
                    raise SystemExit(f"browser: {server.name}: frame {index} differs")
        for _ in range(requests):
            for server in servers:
                for kind in ("meta", "attr"):
                    target = getattr(server, kind)
                    if target:
                        ms = tabs[server.name].fetch(target).ms
                        getattr(found[server.name], f"browser_{kind}").append(ms)


# --- Report ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def p50(values: list[float]) -> float:
    return percentile(values, 50)


def cell(values: list[float]) -> str:
    """p50 / p95 in ms, or a dash."""
    if not values:
        return "—"
    return f"{percentile(values, 50):.2f} / {percentile(values, 95):.2f}"


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def targets(results: dict[str, Timings]) -> list[tuple[str, float, float, bool]]:
    """Each target: what, fairbeam's p50, the bound, met."""
    ours, grove = results["fairbeam"], results["h5grove"]
    checks = []
    for column, label in (
        ("browser", "frame, browser"),
        ("isal", "frame, Python + isal_zlib"),
        ("zlib", "frame, Python + zlib"),
    ):
        bound = p50(getattr(grove, column)) / 2
        if getattr(ours, column):
            checks.append(
                (f"{label}: at most half of h5grove's", p50(getattr(ours, column)), bound)
            )
    for kind in ("meta", "attr", "browser_meta", "browser_attr"):
        if getattr(ours, kind):
            label = kind.replace("browser_", "") + (", browser" if "browser" in kind else "")
            bound = p50(getattr(grove, kind))
            checks.append((f"{label}: no slower than h5grove's", p50(getattr(ours, kind)), bound))
    return [(label, value, bound, value <= bound) for label, value, bound in checks]


def explain_floor(results: dict[str, Timings]) -> None:
    """What the floor says of any server that sends the stored stream."""
    floor, raw, grove = results["floor"], results["floor, raw"], results["h5grove"]
    ratios = [
        f"{kind} {p50(getattr(floor, kind)) / p50(getattr(grove, kind)):.2f}"
        for kind in ("browser", "isal", "zlib", "meta", "attr")
    ]
    console.print(
        "floor p50 / h5grove p50 (the best any server sending the stored stream can do): "
        + ", ".join(ratios)
    )
    console.print(
        f"Chromium's CPU per frame: a raw frame {raw.cpu_browser:.2f} ms, the stored stream "
        f"{floor.cpu_browser:.2f} ({floor.cpu_browser - raw.cpu_browser:+.2f}: its inflate); "
        f"h5grove's server CPU per frame {grove.cpu_frame:.2f} ms, the raw floor's "
        f"{raw.cpu_frame:.2f}"
    )
    for column, client in (("browser", "Chromium"), ("isal", "isal_zlib"), ("zlib", "zlib")):
        moved, stored, theirs = (p50(getattr(t, column)) for t in (raw, floor, grove))
        console.print(
            f"{client}: a raw frame from memory {moved:.2f} ms; the stored stream "
            f"{stored:.2f} ({stored - moved:+.2f}: the client's inflate, 1.7 MB less on the "
            f"wire); h5grove {theirs:.2f} ({theirs - moved:+.2f}: its server's work)"
        )


def report(
    results: dict[str, Timings], versions: dict[str, str], args: argparse.Namespace, loads: Any
) -> None:
    frames = Table(
        title=f"A frame: {args.requests} requests per server and client, p50 / p95 ms; "
        "server CPU in ms per request"
    )
    for column in (
        "server",
        "on the wire",
        "coding",
        "last byte",
        "Python + zlib",
        "Python + isal_zlib",
        "browser",
        "server CPU",
        "browser CPU",
    ):
        frames.add_column(column, justify="left" if column in ("server", "coding") else "right")
    meta = Table(
        title=f"A group: {args.requests} requests per server and client, p50 / p95 ms; "
        "server CPU in ms per request"
    )
    for column in (
        "server",
        "meta",
        "attr",
        "meta, browser",
        "attr, browser",
        "server CPU, meta + attr",
    ):
        meta.add_column(column, justify="left" if column == "server" else "right")
    for name, t in results.items():
        frames.add_row(
            f"{name} {versions[name]}",
            f"{np.median(t.wire) / 1e6:.2f} MB",
            t.coding,
            cell(t.received),
            cell(t.zlib),
            cell(t.isal),
            cell(t.browser),
            f"{t.cpu_frame:.2f}",
            f"{t.cpu_browser:.2f}",
        )
        meta.add_row(
            f"{name} {versions[name]}",
            cell(t.meta),
            cell(t.attr),
            cell(t.browser_meta),
            cell(t.browser_attr),
            f"{t.cpu_group:.2f}",
        )
    console.print(frames)
    console.print(meta)
    console.print(f"load average before: {loads[0]}; after: {loads[1]}")
    ours = results["fairbeam"]
    for peer, theirs in results.items():
        if peer == "fairbeam":
            continue
        ratios = [
            f"{kind} {p50(getattr(ours, kind)) / p50(getattr(theirs, kind)):.2f}"
            for kind in ("browser", "isal", "zlib", "meta", "attr", "browser_meta")
            if getattr(theirs, kind) and getattr(ours, kind)
        ]
        console.print(f"fairbeam p50 / {peer} p50: {', '.join(ratios)}")
    if {"floor", "floor, raw", "h5grove"} <= set(results):
        explain_floor(results)
    checked = targets(results) if "h5grove" in results else []
    for label, value, bound, met in checked:
        verdict = "met" if met else "NOT met"
        console.print(f"target {label}: {value:.2f} ms against {bound:.2f} ms: {verdict}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"viewer-{stamp}.json"
    kinds = ("received", "zlib", "isal", "browser", "meta", "attr", "browser_meta", "browser_attr")
    out.write_text(
        json.dumps(
            {
                "requests": args.requests,
                "frames": args.frames,
                "versions": versions,
                "load_before": loads[0],
                "load_after": loads[1],
                "results": {
                    name: {
                        kind: {
                            "p50": p50(getattr(t, kind)),
                            "p95": percentile(getattr(t, kind), 95),
                        }
                        for kind in kinds
                        if getattr(t, kind)
                    }
                    | {
                        "wire_bytes": float(np.median(t.wire)),
                        "encoding": t.coding,
                        "server_cpu_ms_per_frame": t.cpu_frame,
                        "server_cpu_ms_per_meta_and_attr": t.cpu_group,
                        "browser_cpu_ms_per_frame": t.cpu_browser,
                    }
                    for name, t in results.items()
                },
                "targets": [
                    {"target": label, "fairbeam_ms": value, "bound_ms": bound, "met": met}
                    for label, value, bound, met in checked
                ],
            },
            indent=2,
        )
    )
    console.print(f"saved {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument(
        "--skip", action="append", default=[], choices=["h5grove", "tiled", "floor", "browser"]
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fairbeam-viewer-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    data = work / "data"
    data.mkdir()
    path = data / "stack.h5"
    start = time.perf_counter()
    frames = write_stack(path, args.frames, (1024, 1024))
    size = path.stat().st_size
    console.print(
        f"wrote {path.name}: {args.frames} frames, {size / 1e6:.0f} MB "
        f"({size / (args.frames * frames[0].nbytes):.0%} of raw) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    with ExitStack() as stack:
        servers = [start_fairbeam(stack, work, data, path)]
        if "h5grove" not in args.skip:
            servers.append(start_h5grove(stack, work, data, path))
        if "tiled" not in args.skip:
            servers.append(start_tiled(stack, work, data, path))
        if "floor" not in args.skip:
            servers.append(start_floor(stack, work, data, path))
            servers.append(start_floor(stack, work, data, path, raw=True))
        versions = {server.name: server.version for server in servers}
        loads = [load()]
        console.print(f"load average: {loads[0]}; timing {', '.join(versions)} in turn")
        results = measure_python(servers, frames, args.requests)
        if "browser" not in args.skip:
            measure_browser(servers, frames, args.requests, results)
        loads.append(load())
    report(results, versions, args, loads)


if __name__ == "__main__":
    main()
