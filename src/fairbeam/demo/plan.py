"""The demo facility's investigations and datasets, drawn from a seeded random source so
that every build of one size, on one day, is the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from random import Random

from fairbeam.catalogue.models import ParticipantRole
from fairbeam.demo.acquisition import Acquisition
from fairbeam.demo.diffraction import mx_processed, mx_raw, xrd_processed, xrd_raw
from fairbeam.demo.facility import (
    BEAMLINES,
    EXTERNALS,
    INDUSTRIAL,
    SCIENTISTS,
    STAFF,
    Beamline,
)
from fairbeam.demo.imaging import tomo_processed, tomo_raw, xrf_processed, xrf_raw
from fairbeam.demo.scattering import biosaxs_processed, biosaxs_raw, saxs_processed, saxs_raw
from fairbeam.demo.topics import SampleSpec, Topic

YEARS = 6
EMBARGO_YEARS = 3
# Before this age the beamlines still ran their older detectors, which write one
# file per frame: those datasets hold thousands of files.
LEGACY_AGE = timedelta(days=5 * 365)

Raw = Callable[[Random, str, bool], Acquisition]
Processed = Callable[[Random, str, Acquisition], Acquisition | None]
# A beamline's kind (see demo/facility.py) names how it acquires and processes.
GENERATORS: dict[str, tuple[Raw, Processed]] = {
    "mx": (mx_raw, mx_processed),
    "tomo": (tomo_raw, tomo_processed),
    "saxs": (saxs_raw, saxs_processed),
    "xrf": (xrf_raw, xrf_processed),
    "xrd": (xrd_raw, xrd_processed),
    "biosaxs": (biosaxs_raw, biosaxs_processed),
}


class Size(StrEnum):
    """How big a demo facility to build."""

    small = "small"
    large = "large"


@dataclass(frozen=True)
class SizeSpec:
    """Counts behind a size."""

    investigations: int
    raw_per_investigation: tuple[int, int]
    nexus_every: int  # every n-th investigation gets real NeXus files on disk
    # Every raw dataset old enough for the archive gets its NeXus file on disk (the
    # large demo, a catalogue at scale, lists more data than it writes).
    files_for_archive: bool


SIZES = {
    Size.small: SizeSpec(40, (4, 10), 1, True),
    Size.large: SizeSpec(400, (8, 30), 10, False),
}


@dataclass
class DatasetPlan:
    """One dataset to register, and whether a real NeXus file is written for it."""

    name: str
    sample: SampleSpec
    location: str  # relative to the storage folder
    start: datetime
    end: datetime
    acquisition: Acquisition
    processed: bool = False
    input_index: int | None = None  # the raw dataset it was made from, in the same list
    nexus: bool = False


@dataclass
class InvestigationPlan:
    """One proposal's session of beam time, its people and its datasets."""

    code: str
    title: str
    abstract: str
    beamline: Beamline
    start: datetime
    end: datetime
    release_date: datetime | None
    proposal_type: str
    participants: list[tuple[str, ParticipantRole]]
    datasets: list[DatasetPlan] = field(default_factory=list)


def add_years(moment: datetime, years: int) -> datetime:
    """The same day ``years`` later (28 February for 29 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _codes(rng: Random, count: int) -> list[int]:
    return sorted(rng.sample(range(1000, 6000), count))


def _participants(
    rng: Random, index: int, beamline_index: int, industrial: bool
) -> list[tuple[str, ParticipantRole]]:
    staff = STAFF[beamline_index].username
    if industrial:
        client = INDUSTRIAL[index % len(INDUSTRIAL)].username
        return [
            (client, ParticipantRole.principal_investigator),
            (staff, ParticipantRole.local_contact),
        ]
    # The login scientists lead most proposals so that "My Data" is never empty.
    pi = SCIENTISTS[index % len(SCIENTISTS)].username if index % 4 != 3 else None
    others = [p.username for p in SCIENTISTS + EXTERNALS if p.username != pi]
    chosen = rng.sample(others, rng.randint(2, 5))
    if pi is None:
        pi, chosen = chosen[0], chosen[1:]
    people = [(pi, ParticipantRole.principal_investigator)]
    co = rng.randint(1, len(chosen))
    people += [(name, ParticipantRole.co_investigator) for name in chosen[:co]]
    people += [(name, ParticipantRole.collaborator) for name in chosen[co:]]
    people.append((staff, ParticipantRole.local_contact))
    return people


def _abstract(topic: Topic, beamline: Beamline, rng: Random) -> str:
    closing = rng.choice(
        [
            "The results will be deposited in public databases and published in open access.",
            "The data will complement laboratory measurements made by the team.",
            "This work continues a previous experiment that gave promising first results.",
            "The outcome will guide the design of the next generation of samples.",
        ]
    )
    return f"{topic.aim} {beamline.method} {closing}"


def _datasets(rng: Random, inv: InvestigationPlan, spec: SizeSpec, now: datetime) -> None:
    kind = inv.beamline.kind
    acquire, process = GENERATORS[kind]
    legacy = now - inv.start > LEGACY_AGE
    topic_samples = _topic(inv).samples
    count = rng.randint(*spec.raw_per_investigation)
    session_folder = inv.start.strftime("%Y%m%d")
    root = f"visitor/{inv.code}/{inv.beamline.name}/{session_folder}"
    last = min(inv.end, now)
    step = (last - inv.start) / (count + 1)
    per_sample: dict[str, int] = {}
    for n in range(count):
        sample = topic_samples[n % len(topic_samples)]
        number = per_sample[sample.name] = per_sample.get(sample.name, 0) + 1
        name = f"{sample.name}_{number:04d}"
        raw = acquire(rng, name, legacy)
        start = inv.start + step * (n + 0.5) + timedelta(minutes=rng.randint(0, 30))
        end = start + timedelta(seconds=round(raw.seconds))
        folder = f"{sample.name}/{name}"
        inv.datasets.append(DatasetPlan(name, sample, f"{root}/RAW_DATA/{folder}", start, end, raw))
        raw_index = len(inv.datasets) - 1
        result = process(rng, name, raw)
        if result is not None:
            done = end + timedelta(seconds=round(result.seconds))
            inv.datasets.append(
                DatasetPlan(
                    f"{name}_{result.pipeline}",
                    sample,
                    f"{root}/PROCESSED_DATA/{folder}/{result.pipeline}",
                    end,
                    done,
                    result,
                    processed=True,
                    input_index=raw_index,
                )
            )


def _topic(inv: InvestigationPlan) -> Topic:
    topics = inv.beamline.topics
    return next((t for t in topics if inv.title.startswith(t.title)), topics[0])


def plan_facility(size: Size, today: datetime, online_days: int = 90) -> list[InvestigationPlan]:
    """The investigations of a demo facility of ``size``, as of midnight ``today`` (UTC).

    Raw data older than ``online_days`` is due for the archive: in the small demo every
    such raw dataset gets its real NeXus file on disk, so that the demo's policy passes
    archive real bytes; only recent raw data and processed data are catalogued without
    files on disk."""
    archive_before = today - timedelta(days=online_days)
    spec = SIZES[size]
    rng = Random(f"fairbeam-demo-{size.value}")
    first = add_years(today, -YEARS)
    span = (today - first) / spec.investigations
    weights = [b.weight for b in BEAMLINES]
    numbers = _codes(rng, spec.investigations)
    used: dict[str, int] = {}
    plans = []
    for index in range(spec.investigations):
        beamline_index = rng.choices(range(len(BEAMLINES)), weights)[0]
        beamline = BEAMLINES[beamline_index]
        industrial = index % 10 == 7
        prefix = beamline.industrial if industrial else rng.choice(beamline.prefixes)
        day = first + span * (index + rng.uniform(0.0, 0.7))
        start = day.replace(hour=8, minute=0, second=0, microsecond=0)
        if index == spec.investigations - 1:
            start = today - timedelta(hours=16)  # a session under way: data still arrives
        end = start + timedelta(days=rng.randint(2, 5))
        topic = beamline.topics[used.get(beamline.name, 0) % len(beamline.topics)]
        repeat = used.get(beamline.name, 0) // len(beamline.topics)
        used[beamline.name] = used.get(beamline.name, 0) + 1
        title = topic.title + (f" (part {repeat + 1})" if repeat else "")
        inv = InvestigationPlan(
            code=f"{prefix}-{numbers[index]}",
            title=title,
            abstract=_abstract(topic, beamline, rng),
            beamline=beamline,
            start=start,
            end=end,
            release_date=None if industrial else add_years(end, EMBARGO_YEARS),
            proposal_type="industrial" if industrial else "standard",
            participants=_participants(rng, index, beamline_index, industrial),
        )
        _datasets(rng, inv, spec, today)
        if index % spec.nexus_every == 0:
            first_raw = inv.datasets[0]
            first_raw.nexus = True
            for dataset in inv.datasets:
                if dataset.input_index == 0:
                    dataset.nexus = True
        # Industrial data is deleted, never archived: it needs no files for the archive.
        for dataset in inv.datasets if spec.files_for_archive and not industrial else []:
            if not dataset.processed and dataset.start < archive_before:
                dataset.nexus = True
        plans.append(inv)
    return plans
