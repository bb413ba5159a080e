"""Running a harvest as child processes and measuring it: wall time, CPU, memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


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
