"""`fairbeam ingest`, run as the operator runs it: the installed command in a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from fairbeam.config import Settings
from tests.ingest import files
from tests.ingest.tree import acquisition, add_facility, datasets_at

COMMAND = Path(sys.executable).with_name("fairbeam")


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FAIRBEAM_") and key != "COLUMNS"
    }
    env |= {
        "FAIRBEAM_DATABASE_URL": settings.database_url,
        "FAIRBEAM_VAR": str(settings.var),
        "FAIRBEAM_DATA_ROOTS": ",".join(str(r) for r in settings.data_roots),
    }
    return subprocess.run(
        [str(COMMAND), "ingest", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_ingest_command(settings: Settings, session: Session) -> None:
    add_facility(session)
    data = settings.data_roots[0]
    good = [
        files.write_bliss_multiscan(acquisition(data, "lysozyme_crystal", f"{n:04d}"), scans=2)
        for n in range(1, 4)
    ]
    bad = {
        kind: files.write_bad(acquisition(data, "unreadable_files", kind), kind)
        for kind in ("text", "truncated", "hdf4")
    }
    weird = files.write_bad(acquisition(data, "scan[b]", "0001"), "empty")

    done = run(settings, str(data))
    assert done.returncode == 1, done.stderr
    # One line per failed file, whatever the width of the terminal.
    lines = done.stderr.splitlines()
    assert len(lines) == 4, done.stderr
    # Brackets in a path are printed as they are, not taken for markup.
    assert f"failed {weird}: the file is empty" in lines
    said = {
        "text": "is not an HDF5 file (no HDF5 signature)",
        "hdf4": "is an HDF4 file, not HDF5 (convert it with h4toh5)",
        "truncated": "is truncated (truncated file: eof = ",
    }
    for kind, path in bad.items():
        (line,) = [x for x in lines if x.startswith(f"failed {path}: ")]
        assert line.startswith(f"failed {path}: {said[kind]}")
    assert datasets_at(session, data) == [str(p.parent) for p in good]

    again = run(settings, "--json", str(data))
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["summary"] == {"created": 0, "updated": 0, "unchanged": 7, "failed": 0}


def test_ingest_command_with_hints_and_json(settings: Settings, session: Session) -> None:
    add_facility(session)
    data = settings.data_roots[0]
    folder = data / "flyscans"
    folder.mkdir(parents=True)
    fly = files.write_soleil_style(folder / "flyscan_0001.nxs")

    refused = run(settings, "--json", str(fly))
    assert refused.returncode == 1
    report = json.loads(refused.stdout)
    assert report["summary"]["failed"] == 1
    assert report["outcomes"][0]["message"] == (
        f"{fly}: no instrument in the file or the path; give --instrument"
    )

    done = run(settings, "--investigation", "MX-2471", "--instrument", "id23", "--json", str(fly))
    assert done.returncode == 0, done.stdout
    (outcome,) = json.loads(done.stdout)["outcomes"]
    assert (outcome["location"], outcome["status"]) == (str(fly), "created")
    assert datasets_at(session, folder) == [str(fly)]

    missing = run(settings, str(data / "nowhere"))
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        f"failed {data / 'nowhere'} does not exist or is neither a file nor a folder"
    ]
