"""Build the demo facility into an empty catalogue, through the services and the
registration path that people and control software use."""

from __future__ import annotations

import multiprocessing
import os
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.models import Role, User
from fairbeam.access.policy import Principal
from fairbeam.access.service import create_user, principal_of
from fairbeam.catalogue.models import DatasetType, Facility, Instrument, Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import (
    DatasetIn,
    FileIn,
    InstrumentIn,
    InvestigationIn,
    ParticipantIn,
    SampleIn,
)
from fairbeam.catalogue.service import create_instrument, create_investigation
from fairbeam.config import Settings
from fairbeam.demo.facility import (
    BEAMLINES,
    EXTERNALS,
    INDUSTRIAL,
    MANAGER,
    SCIENTISTS,
    STAFF,
    Person,
    orcid,
)
from fairbeam.demo.history import files_on_disk, run_history
from fairbeam.demo.logbook import write_logbook
from fairbeam.demo.nexus import master_name, write_master
from fairbeam.demo.plan import DatasetPlan, InvestigationPlan, Size, plan_facility
from fairbeam.errors import Conflict

# Called as work advances: (what is being done, how much is done, how much in all).
Progress = Callable[[str, int, int], None]
BATCH_FILES = 50_000
BATCH_DATASETS = 500
# Processes writing the NeXus files while the catalogue is filled.
WRITERS = max(1, min(4, os.cpu_count() or 1))
Written = dict[tuple[str, str], Future[tuple[int, str]]]


@dataclass
class Account:
    """A demo account that can log in or take a token."""

    username: str
    full_name: str
    role: str
    beamline: str
    password: str | None  # None: software, which uses API tokens


@dataclass
class DemoSummary:
    """What the demo put in the catalogue, and the accounts to try it with."""

    size: str
    instruments: int = 0
    investigations: int = 0
    released: int = 0
    embargoed: int = 0
    users: int = 0
    datasets: int = 0
    raw: int = 0
    processed: int = 0
    files: int = 0
    volume_bytes: int = 0
    nexus_files: int = 0  # real files on disk (after the policy passes archived some)
    nexus_bytes: int = 0
    logbook_events: int = 0
    dois: int = 0
    policy_passes: int = 0
    archived: int = 0  # raw datasets in verified bundles on the archive tier
    archive_bytes: int = 0
    deleted: int = 0  # datasets whose data the policy deleted (proposal types not kept)
    accounts: list[Account] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        return asdict(self)


def demo_password(username: str) -> str:
    """The password of a demo login account."""
    return f"{username}-demo"


def count_investigations(session: Session) -> int:
    """How many investigations the catalogue holds."""
    return session.scalar(select(func.count()).select_from(Investigation)) or 0


def software_name(beamline: str) -> str:
    """The username of a beamline's control software."""
    return f"bliss-{beamline.lower()}"


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _refuse_non_empty(session: Session) -> None:
    existing = count_investigations(session)
    if existing:
        raise Conflict(
            f"the catalogue already holds {existing} investigation(s): the demo fills only "
            "an empty one (--if-empty skips it)"
        )
    people = [MANAGER, *STAFF, *SCIENTISTS, *EXTERNALS, *INDUSTRIAL]
    names = [p.username for p in people] + [software_name(b.name) for b in BEAMLINES]
    taken = sorted(session.scalars(select(User.username).where(User.username.in_(names))))
    if taken:
        raise Conflict(f"demo user(s) {', '.join(taken)} already exist; use an empty catalogue")


def _person(session: Session, person: Person, role: Role, login: bool, beamline: str = "") -> User:
    return create_user(
        session,
        person.username,
        password=demo_password(person.username) if login else None,
        role=role,
        full_name=person.full_name,
        email=f"{person.username}@example.org",
        orcid=orcid(person.orcid) if person.orcid else None,
        instruments=[beamline] if beamline else [],
    )


def _instruments(session: Session, manager: Principal, settings: Settings) -> None:
    facility = session.scalar(select(Facility).where(Facility.name == settings.facility))
    if facility is None:
        facility = Facility(name=settings.facility, full_name=settings.facility_name)
        session.add(facility)
        session.flush()
    for beamline in BEAMLINES:
        instrument = session.scalar(select(Instrument).where(Instrument.name == beamline.name))
        if instrument is None:
            data = InstrumentIn(
                name=beamline.name,
                full_name=beamline.full_name,
                description=beamline.description,
                techniques=list(beamline.techniques),
            )
            instrument = create_instrument(session, manager, data)
        instrument.facility_id = facility.id
    session.flush()


def _accounts(session: Session) -> tuple[dict[str, Principal], list[Account]]:
    """Every demo person and piece of software after the manager: answers each
    beamline's software principal, and the accounts to print."""
    accounts = [Account(MANAGER.username, MANAGER.full_name, "manager", "", "")]
    for beamline, person in zip(BEAMLINES, STAFF, strict=True):
        _person(session, person, Role.staff, True, beamline.name)
        accounts.append(Account(person.username, person.full_name, "staff", beamline.name, ""))
    for person in SCIENTISTS:
        _person(session, person, Role.user, True)
        accounts.append(Account(person.username, person.full_name, "user", "", ""))
    for person in EXTERNALS + INDUSTRIAL:
        _person(session, person, Role.user, False)
    software: dict[str, Principal] = {}
    for beamline in BEAMLINES:
        name = software_name(beamline.name)
        user = create_user(
            session,
            name,
            role=Role.software,
            full_name=f"Bliss on {beamline.name}",
            instruments=[beamline.name],
        )
        software[beamline.name] = principal_of(session, user)
        accounts.append(Account(name, user.full_name, "software", beamline.name, None))
    for account in accounts:
        if account.password == "":
            account.password = demo_password(account.username)
    return software, accounts


def _create_investigation(
    session: Session, manager: Principal, plan: InvestigationPlan, settings: Settings
) -> None:
    data = InvestigationIn(
        code=plan.code,
        title=plan.title,
        abstract=plan.abstract,
        instrument=plan.beamline.name,
        start=plan.start,
        end=plan.end,
        release_date=plan.release_date,
        proposal_type=plan.proposal_type,
        participants=[ParticipantIn(username=u, role=r) for u, r in plan.participants],
    )
    # With the settings its DOI is minted (registered) at once, as the policy does.
    create_investigation(session, manager, data, settings)


def _dataset_in(
    plan: InvestigationPlan, dataset: DatasetPlan, root: str, files: list[FileIn], inputs: list[int]
) -> DatasetIn:
    acquisition = dataset.acquisition
    return DatasetIn(
        investigation=plan.code,
        instrument=plan.beamline.name,
        name=dataset.name,
        location=f"{root}/{dataset.location}",
        type=DatasetType.processed if dataset.processed else DatasetType.raw,
        technique=acquisition.technique,
        start=dataset.start,
        end=dataset.end,
        sample=SampleIn(
            name=dataset.sample.name,
            chemical_formula=dataset.sample.formula,
            description=dataset.sample.description,
        ),
        # The NeXus file's default plot, as harvest records it, for the viewer.
        parameters=(
            {**acquisition.parameters, "default_plot": "/entry/data"}
            if dataset.nexus
            else acquisition.parameters
        ),
        files=files,
        inputs=inputs,
    )


def _batches(items: list[DatasetIn]) -> Iterator[list[DatasetIn]]:
    batch: list[DatasetIn] = []
    files = 0
    for item in items:
        if batch and (files + len(item.files) > BATCH_FILES or len(batch) >= BATCH_DATASETS):
            yield batch
            batch, files = [], 0
        batch.append(item)
        files += len(item.files)
    if batch:
        yield batch


def _write_files(
    pool: ProcessPoolExecutor,
    plans: list[InvestigationPlan],
    settings: Settings,
    names: dict[str, str],
) -> Written:
    """Start writing every NeXus file on the pool: a future (size, checksum) per dataset."""
    written: Written = {}
    storage = settings.storage.resolve()
    for plan in plans:
        users = [(names[u], role.value) for u, role in plan.participants]
        for dataset in plan.datasets:
            if dataset.nexus:
                seed = zlib.crc32(f"{plan.code}/{dataset.location}".encode())
                target = storage / dataset.location / master_name(dataset)
                written[(plan.code, dataset.location)] = pool.submit(
                    write_master, target, dataset, plan, settings.facility, users, seed
                )
    return written


def _files(plan: InvestigationPlan, dataset: DatasetPlan, written: Written) -> list[FileIn]:
    """The dataset's files: its real NeXus file when it has one, else those it lists."""
    if not dataset.nexus:
        return [FileIn(path=path, size=size) for path, size in dataset.acquisition.files]
    size, checksum = written[(plan.code, dataset.location)].result()
    return [FileIn(path=master_name(dataset), size=size, checksum=checksum)]


def _register(
    session: Session,
    software: Principal,
    plan: InvestigationPlan,
    settings: Settings,
    written: Written,
    summary: DemoSummary,
) -> None:
    """Register an investigation's raw datasets, then the processed ones made from them."""
    root = settings.storage.resolve().as_posix()
    ids: dict[int, int] = {}
    for processed in (False, True):
        chosen = [(i, d) for i, d in enumerate(plan.datasets) if d.processed is processed]
        items = []
        for _, dataset in chosen:
            files = _files(plan, dataset, written)
            inputs = [ids[dataset.input_index]] if dataset.input_index is not None else []
            items.append(_dataset_in(plan, dataset, root, files, inputs))
            summary.files += len(files)
            summary.volume_bytes += sum(f["size"] for f in files)
            if dataset.nexus:
                summary.nexus_files += 1
                summary.nexus_bytes += files[0]["size"]
        results = [
            r for batch in _batches(items) for r in register_datasets(session, software, batch)
        ]
        ids.update({index: result.id for (index, _), result in zip(chosen, results, strict=True)})
        summary.processed += len(results) if processed else 0
        summary.raw += 0 if processed else len(results)
    summary.datasets = summary.raw + summary.processed


def build_demo(
    session: Session,
    settings: Settings,
    size: Size = Size.small,
    today: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty catalogue with the demo facility; the caller commits."""
    _refuse_non_empty(session)
    today = today or _today()
    plans = plan_facility(size, today, settings.online_days)
    report = progress or (lambda stage, done, total: None)
    people = [MANAGER, *STAFF, *SCIENTISTS, *EXTERNALS, *INDUSTRIAL]
    names = {p.username: p.full_name for p in people}
    # The NeXus files are written by other processes while this one fills the catalogue.
    pool = ProcessPoolExecutor(WRITERS, mp_context=multiprocessing.get_context("spawn"))
    try:
        written = _write_files(pool, plans, settings, names)
        report("accounts", 0, 1)
        manager = principal_of(session, _person(session, MANAGER, Role.manager, True))
        _instruments(session, manager, settings)
        software, accounts = _accounts(session)
        report("accounts", 1, 1)
        summary = DemoSummary(size=size.value, accounts=accounts, instruments=len(BEAMLINES))
        summary.users = len(people) + len(BEAMLINES)
        total = sum(len(p.datasets) for p in plans)
        done = 0
        for plan in plans:
            beamline_software = software[plan.beamline.name]
            _create_investigation(session, manager, plan, settings)
            _register(session, beamline_software, plan, settings, written, summary)
            summary.logbook_events += write_logbook(session, beamline_software, plan)
            summary.investigations += 1
            released = plan.release_date is not None and plan.release_date <= today
            summary.released += released
            summary.embargoed += not released
            done += len(plan.datasets)
            report("datasets", done, total)
    finally:
        pool.shutdown(cancel_futures=True)
    summary.dois = len(plans)
    return summary


def build_demo_facility(
    sessions: sessionmaker[Session],
    settings: Settings,
    size: Size = Size.small,
    today: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """The demo facility in an empty catalogue, as it stands after years of the data
    policy: built and committed, then real policy passes as of past days and today
    (demo/history.py), and requests waiting for the data manager."""
    today = today or _today()
    with sessions() as session:
        summary = build_demo(session, settings, size, today, progress)
        session.commit()
    history = run_history(sessions, settings, today, progress)
    summary.policy_passes = history.passes
    summary.archived = history.archived
    summary.archive_bytes = history.archive_bytes
    summary.deleted = history.deleted
    with sessions() as session:
        summary.nexus_files, summary.nexus_bytes = files_on_disk(session)
    return summary
