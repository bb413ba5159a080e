"""The peers' virtual environments under bench/.peers/, created on first use.

Peers are the tools a facility would otherwise run; benchmarks compare fairbeam
with them on the same files. They live in their own virtual environments (git
ignores bench/.peers/) and are never dependencies of fairbeam.

    python bench/peers.py           # create what is missing, print versions
    python bench/peers.py --upgrade # reinstall at the newest versions pip gives
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / ".peers"


@dataclass(frozen=True)
class Peer:
    """A peer tool: its venv name, what pip installs, and the module giving its version."""

    name: str
    requirements: tuple[str, ...]
    module: str

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.name

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def marker(self) -> Path:
        # Written only after pip succeeded, so a half-built venv is rebuilt.
        return self.venv / ".installed"


def same_as_ours(package: str, extra: str = "") -> str:
    """A requirement pinning ``package`` to the version fairbeam's own venv runs, so that
    a peer is served on equal terms (the same HTTP server and parser); unpinned when
    this Python lacks it."""
    try:
        return f"{package}{extra}=={importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{package}{extra}"


TILED = Peer("tiled", ("tiled[server]", "h5py"), "tiled")
# h5grove's FastAPI router, under the uvicorn and httptools that serve fairbeam.
H5GROVE = Peer(
    "h5grove",
    (
        "h5grove[fastapi]",
        same_as_ours("uvicorn", "[standard]"),
        same_as_ours("httptools"),
        "hdf5plugin",
    ),
    "h5grove",
)
PEERS = {peer.name: peer for peer in (TILED, H5GROVE)}


def ensure_peer(peer: Peer, *, upgrade: bool = False) -> Path:
    """Create the peer's venv and install it when missing or when its requirements
    changed; return its bin folder."""
    wanted = " ".join(peer.requirements) + "\n"
    if peer.marker.exists() and peer.marker.read_text() == wanted and not upgrade:
        return peer.bin
    if not peer.python.exists():
        print(f"creating {peer.venv}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(peer.venv)
    command = [str(peer.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if upgrade:
        command.append("--upgrade")
    print(f"installing {' '.join(peer.requirements)} into {peer.venv}", file=sys.stderr)
    subprocess.run([*command, *peer.requirements], check=True, timeout=1800)
    peer.marker.write_text(wanted)
    return peer.bin


def peer_version(peer: Peer) -> str:
    """The installed version of the peer's main package."""
    code = f"import importlib.metadata as m; print(m.version({peer.module!r}))"
    result = subprocess.run(
        [str(peer.python), "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.strip()


def ensure_tiled() -> Path:
    """The bin folder of the Tiled venv (tiled[server] and h5py), created when missing."""
    return ensure_peer(TILED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(PEERS), help="peers to set up")
    parser.add_argument("--upgrade", action="store_true", help="reinstall at newest versions")
    args = parser.parse_args()
    for name in args.names:
        if name not in PEERS:
            parser.error(f"unknown peer {name!r}; known: {', '.join(sorted(PEERS))}")
        peer = PEERS[name]
        ensure_peer(peer, upgrade=args.upgrade)
        print(f"{peer.name} {peer_version(peer)}  {peer.venv}")


if __name__ == "__main__":
    main()
