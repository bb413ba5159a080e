"""A synthetic facility for the catalogue benchmark: beamlines, users, investigations
with participants, and datasets with realistic parameters and a long tail of files."""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fairbeam.access.models import InstrumentStaff, Role, User
from fairbeam.access.policy import Principal
from fairbeam.catalogue.models import (
    DatasetType,
    Instrument,
    Investigation,
    Participant,
    ParticipantRole,
)

BEAMLINES = 50
BIG_DATASET_FILES = 200_000
FIRST_DAY = datetime(2017, 1, 1, tzinfo=UTC)
LAST_DAY = datetime(2026, 11, 1, tzinfo=UTC)
EMBARGO = timedelta(days=3 * 365)
TECHNIQUES = (
    ("MX", "SSX"),
    ("SAXS", "WAXS"),
    ("XRD", "PDF"),
    ("XAS", "XES"),
    ("XRF", "nanoprobe"),
    ("tomography", "phase-contrast"),
    ("ptychography", "CDI"),
    ("XPCS", "SAXS"),
)
SAMPLES = (
    ("lysozyme", "C613H951N193O185S10"),
    ("thaumatin", None),
    ("insulin", None),
    ("proteinase_k", None),
    ("hemoglobin", None),
    ("ferritin", None),
    ("LiFePO4_cathode", "LiFePO4"),
    ("NMC811_cathode", "LiNi0.8Mn0.1Co0.1O2"),
    ("zeolite_ZSM5", None),
    ("Pt_nanoparticles", "Pt"),
    ("TiO2_anatase", "TiO2"),
    ("perovskite_film", "CH3NH3PbI3"),
    ("concrete_core", None),
    ("trabecular_bone", None),
    ("fossil_tooth", None),
    ("silk_fibre", None),
    ("cellulose_nanofibre", None),
    ("graphene_oxide", None),
    ("steel_weld", "Fe"),
    ("ice_VII", "H2O"),
    ("calcite", "CaCO3"),
    ("quartz", "SiO2"),
    ("MOF_UiO66", None),
    ("apoferritin", None),
    ("ribosome_70S", None),
    ("spider_venom", None),
    ("paint_layer", None),
    ("meteorite_slice", None),
    ("battery_pouch_cell", None),
    ("polymer_blend", None),
)
DETECTORS = ("Eiger2 X 16M", "Eiger2 X 4M", "Pilatus3 6M", "Jungfrau 4M", "Maxipix", "Frelon")
SCAN_TYPES = ("ascan", "dscan", "mesh", "ct", "fscan", "zaptime")
MONOCHROMATORS = ("Si(111)", "Si(311)", "multilayer")
PROGRAMMES = ("MX", "HC", "CH", "LS", "MA", "ES", "HG", "EV", "IN")


@dataclass
class Facility:
    """What the benchmark's queries need to know about the generated facility."""

    instruments: dict[str, int]
    loader: Principal
    manager: Principal
    staff: list[Principal]
    users: list[Principal]


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return options[rng.randrange(len(options))]


def build_facility(session: Session, datasets: int, rng: random.Random) -> Facility:
    """Beamlines with staff, a manager, acquisition software and the user community."""
    names = [f"ID{i:02d}" if i <= 32 else f"BM{i - 32:02d}" for i in range(1, BEAMLINES + 1)]
    session.execute(
        insert(Instrument),
        [
            {
                "name": name,
                "full_name": f"Beamline {name}",
                "description": "",
                "techniques": list(TECHNIQUES[i % len(TECHNIQUES)]),
            }
            for i, name in enumerate(names)
        ],
    )
    instruments = dict(session.execute(select(Instrument.name, Instrument.id)).all())
    user_count = max(50, datasets // 300)
    rows = [{"username": "manager", "role": Role.manager}]
    rows.append({"username": "acquisition", "role": Role.software})
    rows += [{"username": f"staff-{name.lower()}", "role": Role.staff} for name in names]
    rows += [{"username": f"user{i:05d}", "role": Role.user} for i in range(user_count)]
    session.execute(insert(User), [r | {"full_name": r["username"]} for r in rows])
    ids = dict(session.execute(select(User.username, User.id)).all())
    bindings = [
        {"instrument_id": iid, "user_id": ids["acquisition"]} for iid in instruments.values()
    ]
    bindings += [
        {"instrument_id": instruments[name], "user_id": ids[f"staff-{name.lower()}"]}
        for name in names
    ]
    session.execute(insert(InstrumentStaff), bindings)
    session.commit()
    return load_facility(session)


def load_facility(session: Session) -> Facility:
    """The facility as stored (for a run that skips loading)."""
    instruments = dict(session.execute(select(Instrument.name, Instrument.id)).all())
    staff_of = dict(
        session.execute(select(InstrumentStaff.user_id, InstrumentStaff.instrument_id)).all()
    )
    everything = frozenset(instruments.values())
    users = session.execute(select(User.id, User.username, User.role).order_by(User.id)).all()
    by_role: dict[Role, list[Principal]] = {role: [] for role in Role}
    for user_id, username, role in users:
        bound = everything if role == Role.software else frozenset()
        if role == Role.staff:
            bound = frozenset({staff_of[user_id]})
        by_role[role].append(Principal(user_id, username, role, bound))
    return Facility(
        instruments=instruments,
        loader=by_role[Role.software][0],
        manager=by_role[Role.manager][0],
        staff=by_role[Role.staff],
        users=by_role[Role.user],
    )


@dataclass
class Proposal:
    """An investigation as the dataset generator sees it."""

    code: str
    instrument: str
    start: datetime
    end: datetime
    datasets: int


def build_investigations(
    session: Session, facility: Facility, datasets: int, rng: random.Random, first: int = 1000
) -> list[Proposal]:
    """About one investigation per 30 datasets, spread over ten years, with 1-5
    participants each, numbered from ``first``; sorted by start, as acquisitions arrive."""
    count = max(20, datasets // 30)
    span = (LAST_DAY - FIRST_DAY).total_seconds()
    names = sorted(facility.instruments)
    proposals = []
    for i in range(count):
        start = FIRST_DAY + timedelta(seconds=rng.random() * span)
        end = start + timedelta(days=rng.choice((1, 2, 3, 4, 6)))
        code = f"{_pick(rng, PROGRAMMES)}-{i + first:06d}"
        proposals.append(Proposal(code, rng.choice(names), start, end, 0))
    # Split the datasets unevenly: some proposals bring a handful, others hundreds.
    weights = [rng.paretovariate(1.5) for _ in proposals]
    total = sum(weights)
    left = datasets
    for proposal, weight in zip(proposals, weights, strict=True):
        proposal.datasets = min(left, max(1, round(datasets * weight / total)))
        left -= proposal.datasets
    proposals[-1].datasets += left
    proposals.sort(key=lambda p: p.start)
    session.execute(
        insert(Investigation),
        [
            {
                "code": p.code,
                "visit": "",
                "title": f"Structure and dynamics of {_pick(rng, tuple(s for s, _ in SAMPLES))}",
                "abstract": "Beam time for in situ measurements.",
                "instrument_id": facility.instruments[p.instrument],
                "start": p.start,
                "end": p.end,
                "release_date": p.end + EMBARGO,
                "proposal_type": "standard",
                "placeholder": False,
                "dataset_count": 0,
                "file_count": 0,
                "volume_bytes": 0,
            }
            for p in proposals
        ],
    )
    ids = dict(session.execute(select(Investigation.code, Investigation.id)).all())
    participants = []
    for p in proposals:
        members = rng.sample(facility.users, k=min(len(facility.users), rng.randint(1, 5)))
        for n, member in enumerate(members):
            role = (
                ParticipantRole.principal_investigator if n == 0 else ParticipantRole.collaborator
            )
            participants.append(
                {"investigation_id": ids[p.code], "user_id": member.user_id, "role": role}
            )
    session.execute(insert(Participant), participants)
    session.commit()
    return proposals


def file_count(rng: random.Random) -> int:
    """Around 20 files, with a long tail up to 200,000."""
    if rng.random() < 0.01:
        return min(BIG_DATASET_FILES, int(200 * rng.paretovariate(1.2)))
    return max(1, int(math.exp(rng.gauss(math.log(20), 0.7))))


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit}


def _parameters(rng: random.Random, technique: str) -> dict[str, Any]:
    wavelength = rng.uniform(0.5, 2.0)
    params: dict[str, Any] = {
        "wavelength": _quantity(round(wavelength, 4), "angstrom")
        if rng.random() < 0.8
        else _quantity(round(wavelength / 10, 5), "nm"),
        "energy": _quantity(round(12.398 / wavelength, 3), "keV"),
        "flux": _quantity(float(f"{10 ** rng.uniform(10, 13):.3e}"), "ph/s"),
        "transmission": _quantity(round(rng.uniform(0.1, 100), 1), "%"),
        "detector_distance": _quantity(round(rng.uniform(100, 5000), 1), "mm"),
        "pixel_size": _quantity(rng.choice((55, 75, 172, 6.5)), "um"),
        "detector": _pick(rng, DETECTORS),
        "scan_type": _pick(rng, SCAN_TYPES),
        "monochromator": _pick(rng, MONOCHROMATORS),
    }
    exposure = 10 ** rng.uniform(-3, 1)
    params["exposure_time"] = (
        _quantity(round(exposure * 1000, 2), "ms")
        if rng.random() < 0.5
        else _quantity(round(exposure, 5), "s")
    )
    kelvin = rng.choice((100.0, 100.0, 293.0, 4.2, rng.uniform(80, 1200)))
    params["temperature"] = (
        _quantity(round(kelvin, 1), "K")
        if rng.random() < 0.7
        else _quantity(round(kelvin - 273.15, 1), "degC")
    )
    if technique in ("MX", "SSX"):
        params["oscillation_range"] = _quantity(rng.choice((0.1, 0.2, 0.5)), "deg")
    return params


@dataclass
class Batch:
    """One ``POST /api/datasets/batch`` request body, and what it holds."""

    body: bytes
    datasets: int
    files: int
    parameters: int


def _files_json(rng: random.Random, scan: str, count: int) -> str:
    # Generated names are letters, digits, '_', '.' and '/': nothing for JSON to escape.
    return ",".join(
        [
            f'{{"path":"scan{i // 1000:04d}/{scan}_{i:06d}.h5",'
            f'"size":{rng.randrange(1 << 16, 1 << 26)},'
            f'"checksum":"xxh64:{rng.getrandbits(64):016x}"}}'
            for i in range(count)
        ]
    )


def biggest(proposals: list[Proposal]) -> str:
    """The code of the proposal with the most datasets."""
    return max(proposals, key=lambda p: p.datasets).code


def beamline_streams(proposals: list[Proposal], streams: int) -> list[list[Proposal]]:
    """The proposals split by beamline into ``streams`` streams of about the same number of
    datasets, each in acquisition order: what the control software of a group of
    beamlines sends, while no other client registers into the same investigations."""
    per_beamline: dict[str, list[Proposal]] = {}
    for proposal in proposals:
        per_beamline.setdefault(proposal.instrument, []).append(proposal)
    loads = [0] * streams
    chosen: list[list[Proposal]] = [[] for _ in range(streams)]
    for beamline in sorted(per_beamline, key=lambda b: -sum(p.datasets for p in per_beamline[b])):
        lightest = loads.index(min(loads))
        chosen[lightest] += per_beamline[beamline]
        loads[lightest] += sum(p.datasets for p in per_beamline[beamline])
    return [sorted(stream, key=lambda p: p.start) for stream in chosen]


def request_bodies(
    proposals: list[Proposal], batch: int, rng: random.Random, big: str
) -> Iterator[Batch]:
    """Registration requests as control software sends them, in acquisition order, of
    ``batch`` datasets each; the first dataset of proposal ``big`` holds exactly 200,000
    files."""
    parts: list[str] = []
    files = parameters = 0
    for proposal in proposals:
        techniques = TECHNIQUES[int(proposal.instrument[2:]) % len(TECHNIQUES)]
        samples = rng.sample(SAMPLES, k=rng.randint(1, 4))
        step = (proposal.end - proposal.start) / (proposal.datasets + 1)
        for n in range(proposal.datasets):
            sample, formula = samples[n % len(samples)]
            technique = techniques[0] if rng.random() < 0.8 else techniques[1]
            kind = DatasetType.raw if rng.random() < 0.75 else DatasetType.processed
            start = proposal.start + step * (n + 1)
            count = BIG_DATASET_FILES if proposal.code == big and n == 0 else file_count(rng)
            scan = f"{sample}_{n:04d}"
            file_list = _files_json(rng, scan, count)
            params = _parameters(rng, technique)
            dataset = {
                "investigation": proposal.code,
                "instrument": proposal.instrument,
                "name": scan,
                "location": f"/data/visitor/{proposal.code.lower()}/{proposal.instrument}/{scan}",
                "type": kind.value,
                "technique": technique,
                "start": start.isoformat(),
                "end": (start + step / 2).isoformat(),
                "sample": {"name": sample, "chemical_formula": formula, "description": ""},
                "parameters": params,
            }
            parts.append(f'{json.dumps(dataset)[:-1]},"files":[{file_list}]}}')
            files += count
            parameters += len(params)
            if len(parts) >= batch:
                yield Batch(_body(parts), len(parts), files, parameters)
                parts, files, parameters = [], 0, 0
    if parts:
        yield Batch(_body(parts), len(parts), files, parameters)


def _body(datasets: list[str]) -> bytes:
    return f'{{"datasets":[{",".join(datasets)}]}}'.encode()


def store_bodies(folder: Path, bodies: Iterable[Batch]) -> Iterator[Batch]:
    """Write each request body to a file of its own in ``folder`` (``000001.json``, ...),
    then what each holds to ``index.json``; yield each body once it is on disk."""
    folder.mkdir(parents=True)
    index = []
    for number, batch in enumerate(bodies, 1):
        _write_synced(folder / f"{number:06d}.json", batch.body)
        index.append((batch.datasets, batch.files, batch.parameters))
        yield batch
    # Written last, so a folder without it is the remains of an interrupted run.
    _write_synced(folder / "index.json", json.dumps(index).encode())


def stored_bodies(folder: Path) -> Iterator[Batch]:
    """The request bodies ``store_bodies`` wrote to ``folder``, read in order."""
    index = json.loads((folder / "index.json").read_bytes())
    for number, (datasets, files, parameters) in enumerate(index, 1):
        yield Batch((folder / f"{number:06d}.json").read_bytes(), datasets, files, parameters)


def _write_synced(path: Path, data: bytes) -> None:
    # On disk before the clock starts: the timed load does not share the disk with the
    # write-back of several GB of bodies.
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
