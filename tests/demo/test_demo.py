"""The demo facility: what it builds, the NeXus files it writes, and that it never builds twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import h5py
import httpx
import pytest
import xxhash
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fairbeam.access.models import InstrumentStaff, Role, User
from fairbeam.access.policy import SYSTEM, released
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetInput,
    DatasetParameter,
    DatasetType,
    Instrument,
    Investigation,
    ParameterType,
    Participant,
    ParticipantRole,
)
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.db.base import utcnow
from fairbeam.demo.build import DemoSummary, build_demo, demo_password
from fairbeam.demo.facility import orcid
from fairbeam.demo.plan import Size, plan_facility
from fairbeam.errors import Conflict
from fairbeam.policy.archive import bundle_file
from fairbeam.policy.bundle import verify_bundle
from fairbeam.policy.models import (
    ArchiveBundle,
    BundleState,
    Doi,
    DoiCollection,
    DoiState,
    EmbargoExtension,
    PolicyPass,
    RequestStatus,
    StorageState,
)
from fairbeam.policy.restore import request_restore, run_queued_restores
from fairbeam.policy.service import plan_pass, run_pass
from tests.world import World


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _orcid_is_valid(value: str) -> bool:
    digits = value.replace("-", "")
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    return len(digits) == 16 and digits[-1] == ("X" if check == 10 else str(check))


def test_orcid_check_digit() -> None:
    assert orcid("000000021825009") == "0000-0002-1825-0097"
    assert orcid("000000021694233") == "0000-0002-1694-233X"


def test_plan_is_deterministic() -> None:
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    first, second = plan_facility(Size.small, today), plan_facility(Size.small, today)
    assert [(p.code, p.title, len(p.datasets)) for p in first] == [
        (p.code, p.title, len(p.datasets)) for p in second
    ]
    assert len({p.code for p in first}) == 40
    assert len(plan_facility(Size.large, today)) == 400


def test_demo_builds_a_believable_facility(session: Session, built: DemoSummary) -> None:
    assert built.investigations == _count(session, Investigation) == 40
    assert built.instruments == _count(session, Instrument) >= 5
    assert built.datasets == _count(session, Dataset)
    assert built.files == _count(session, Datafile)
    assert built.raw > 0 and built.processed > 0
    for instrument in session.scalars(select(Instrument)):
        assert instrument.techniques and instrument.full_name != instrument.name
        assert instrument.facility_id is not None

    roles = {role for (role,) in session.execute(select(User.role).distinct())}
    assert roles == set(Role)
    for user in session.scalars(select(User).where(User.role.in_([Role.staff, Role.software]))):
        assert (
            session.scalar(select(func.count()).where(InstrumentStaff.user_id == user.id)) == 1
        ), user.username
    orcids = list(session.scalars(select(User.orcid).where(User.orcid.is_not(None))))
    assert len(orcids) >= 10 and all(_orcid_is_valid(o) for o in orcids)

    now = utcnow()
    open_count = _count_where(session, released(now))
    assert 10 <= open_count <= 30, open_count
    assert built.released == open_count and built.embargoed == 40 - open_count
    industrial = list(session.scalars(select(Investigation).where(Investigation.code.like("IH-%"))))
    assert industrial and all(i.proposal_type == "industrial" for i in industrial)
    starts = sorted(session.scalars(select(Investigation.start)))
    assert starts[0] < now - timedelta(days=5 * 365) and starts[-1] > now - timedelta(days=30)
    for inv in session.scalars(select(Investigation)):
        assert inv.end is not None and 2 <= (inv.end - inv.start).days <= 5
        if inv.proposal_type != "industrial":
            assert inv.release_date is not None and inv.release_date.year == inv.end.year + 3
        roles_here = [p.role for p in inv.participants]
        assert roles_here.count(ParticipantRole.principal_investigator) == 1
        assert ParticipantRole.local_contact in roles_here


def _count_where(session: Session, clause: object) -> int:
    return session.scalar(select(func.count()).select_from(Investigation).where(clause)) or 0


def test_demo_datasets_have_provenance_parameters_and_files(
    session: Session, built: DemoSummary
) -> None:
    processed = list(session.scalars(select(Dataset).where(Dataset.type == DatasetType.processed)))
    assert len(processed) == built.processed
    for dataset in processed:
        (source,) = session.scalars(
            select(Dataset)
            .join(DatasetInput, DatasetInput.input_id == Dataset.id)
            .where(DatasetInput.dataset_id == dataset.id)
        )
        assert source.type == DatasetType.raw
        assert source.investigation_id == dataset.investigation_id
    units = dict(
        session.execute(
            select(ParameterType.name, DatasetParameter.unit)
            .join(DatasetParameter, DatasetParameter.type_id == ParameterType.id)
            .where(ParameterType.name.in_(["wavelength", "pixel_size", "dwell_time"]))
        ).all()
    )
    assert units == {"wavelength": "angstrom", "pixel_size": "um", "dwell_time": "ms"}
    largest = session.scalar(select(func.max(Dataset.file_count)))
    assert largest is not None and largest > 1000
    techniques = set(session.scalars(select(Dataset.technique).distinct()))
    assert {"macromolecular crystallography", "tomography", "X-ray fluorescence"} <= techniques


def test_demo_nexus_files_are_real_and_plot(session: Session, built: DemoSummary) -> None:
    rows = session.execute(
        select(Dataset.location, Datafile.path, Datafile.size, Datafile.checksum)
        .join(Datafile, Datafile.dataset_id == Dataset.id)
        .where(Datafile.checksum.is_not(None), Datafile.tier == "online")
    ).all()
    # The files still online; the archived ones are checked in their bundles below.
    assert len(rows) == built.nexus_files >= 30
    assert built.nexus_bytes < 50_000_000
    for location, name, size, checksum in rows:
        path = Path(location) / name
        content = path.read_bytes()
        assert len(content) == size
        assert checksum == f"xxh3:{xxhash.xxh3_128_hexdigest(content)}"
        with h5py.File(path, "r") as root:
            entry = root[root.attrs["default"]]
            assert entry.attrs["NX_class"] == "NXentry"
            assert entry["definition"][()].decode().startswith("NX")
            assert entry["instrument"].attrs["NX_class"] == "NXinstrument"
            assert entry["sample"].attrs["NX_class"] == "NXsample"
            data = entry[entry.attrs["default"]]
            assert data.attrs["NX_class"] == "NXdata"
            signal = data[data.attrs["signal"]]
            assert 1 <= signal.ndim <= 3 and signal.size > 0
            for axis in data.attrs["axes"]:
                if axis != ".":
                    assert data[axis].shape[0] == signal.shape[data.attrs[f"{axis}_indices"]]


def test_demo_accounts_log_in(built: DemoSummary, http: httpx.Client) -> None:
    people = [a for a in built.accounts if a.password]
    assert {a.role for a in people} == {"manager", "staff", "user"}
    assert all(a.password == demo_password(a.username) for a in people)
    for account in (people[0], people[1], people[-1]):
        answer = http.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert answer.status_code == 200, answer.text
    software = [a for a in built.accounts if a.role == "software"]
    assert len(software) == built.instruments and all(a.password is None for a in software)


def test_demo_refuses_a_second_build(
    session: Session, settings: Settings, built: DemoSummary
) -> None:
    counts = [_count(session, m) for m in (User, Investigation, Dataset, Datafile, Participant)]
    with pytest.raises(Conflict, match="already holds 40 investigation"):
        build_demo(session, settings, Size.small)
    session.rollback()
    assert counts == [
        _count(session, m) for m in (User, Investigation, Dataset, Datafile, Participant)
    ]


def test_demo_refuses_a_catalogue_with_investigations(
    session: Session, settings: Settings, world: World
) -> None:
    with pytest.raises(Conflict, match="already holds 3 investigation"):
        build_demo(session, settings, Size.small)


def test_demo_refuses_taken_usernames(session: Session, settings: Settings) -> None:
    session.add(User(username="dmorel", full_name="Someone else"))
    session.commit()
    with pytest.raises(Conflict, match="dmorel"):
        build_demo(session, settings, Size.small)
    session.rollback()
    assert _count(session, Instrument) == 0


def test_demo_logbooks_hold_the_sessions(built: DemoSummary, http: httpx.Client) -> None:
    assert built.logbook_events > built.investigations * 3
    login = http.post(
        "/api/auth/login", json={"username": "dmorel", "password": demo_password("dmorel")}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    code = http.get("/api/investigations", params={"limit": 1}, headers=headers).json()["items"][0][
        "code"
    ]
    events = http.get(
        "/api/logbook/events", params={"investigation": code, "limit": 1000}, headers=headers
    ).json()["items"]
    kinds = {(e["type"], e["category"]) for e in events}
    assert ("annotation", "comment") in kinds
    assert ("notification", "commandLine") in kinds
    assert ("notification", "error") in kinds
    sequences = sorted(e["sequence"] for e in events)
    assert sequences == list(range(1, len(events) + 1))


def _xxh3(path: Path) -> str:
    return f"xxh3:{xxhash.xxh3_128_hexdigest(path.read_bytes())}"


def _files_of(session: Session, dataset: Dataset) -> list[Datafile]:
    return list(
        session.scalars(
            select(Datafile).where(Datafile.dataset_id == dataset.id).order_by(Datafile.path)
        )
    )


def _actions(session: Session, action: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)
        )
        or 0
    )


def test_demo_has_run_the_data_policy_for_years(
    session: Session, settings: Settings, engine: Engine, built: DemoSummary
) -> None:
    now = utcnow()
    # Every investigation has its DOI: findable once released, registered before.
    investigations = list(session.scalars(select(Investigation)))
    dois = {d.investigation_id: d for d in session.scalars(select(Doi))}
    assert built.dois == len(dois) == len(investigations) == 40
    for investigation in investigations:
        doi = dois[investigation.id]
        assert investigation.doi == doi.doi and doi.synced, investigation.code
        kept = investigation.proposal_type not in settings.not_kept_proposal_types
        due = kept and investigation.release_date is not None and investigation.release_date <= now
        assert (investigation.released is not None) is due, investigation.code
        assert doi.state == (DoiState.findable if due else DoiState.registered)
        if due:
            assert investigation.released is not None and investigation.release_date is not None
            assert investigation.released.date() >= investigation.release_date.date()
    assert sum(i.released is not None for i in investigations) == built.released > 0

    # Past passes and today's, all done.
    passes = list(session.scalars(select(PolicyPass).order_by(PolicyPass.as_of)))
    assert built.policy_passes == len(passes) >= 3
    assert all(p.status == "done" and not p.dry_run for p in passes)
    assert passes[0].as_of <= now.date() - timedelta(days=365 * 2)
    assert passes[-1].as_of == now.date()
    assert sum(p.summary["archived"] for p in passes) == built.archived > 100
    assert sum(p.summary["archive_problems"] for p in passes) == 0
    assert _actions(session, "archive-problem") == 0

    # Industrial data was deleted once its days on disk were over, each with its record.
    industrial = list(
        session.scalars(
            select(Dataset)
            .join(Investigation, Investigation.id == Dataset.investigation_id)
            .where(Investigation.proposal_type == "industrial")
        )
    )
    old = [d for d in industrial if d.start < now - timedelta(days=settings.online_days)]
    assert old and all(d.storage_state == StorageState.deleted for d in old)
    assert built.deleted == len(old) == _actions(session, "delete")
    assert all(d.storage_state != StorageState.archived for d in industrial)
    for dataset in old:
        for datafile in _files_of(session, dataset):
            assert not (Path(dataset.location) / datafile.path).exists()

    # What waits for the data manager.
    [extension] = session.scalars(select(EmbargoExtension))
    assert extension.status == RequestStatus.pending
    assert extension.requested_release > (extension.previous_release or now) > now
    [collection] = session.scalars(select(DoiCollection))
    assert collection.status == RequestStatus.pending

    # Old raw data is archived in verified bundles, none left on disk; nothing due online.
    archived = list(
        session.scalars(select(Dataset).where(Dataset.storage_state == StorageState.archived))
    )
    assert len(archived) == built.archived
    assert all(d.type == DatasetType.raw for d in archived)
    bundles = {
        b.dataset_id: b
        for b in session.scalars(
            select(ArchiveBundle).where(ArchiveBundle.state == BundleState.complete)
        )
    }
    assert set(bundles) == {d.id for d in archived}
    for dataset in archived:
        bundle = bundles[dataset.id]
        assert bundle.verified is not None and bundle.keep_until is not None
        manifest = verify_bundle(bundle_file(settings, bundle), bundle.checksum)
        datafiles = _files_of(session, dataset)
        assert [f["path"] for f in manifest["files"]] == [f.path for f in datafiles]
        for datafile in datafiles:
            assert datafile.tier == "archive"
            assert not (Path(dataset.location) / datafile.path).exists()
    online_raw = session.scalars(
        select(Dataset).where(
            Dataset.type == DatasetType.raw, Dataset.storage_state == StorageState.online
        )
    )
    cutoff = now - timedelta(days=settings.online_days)
    kept_raw = [d for d in online_raw if d.investigation.proposal_type != "industrial"]
    assert kept_raw and all(d.start >= cutoff for d in kept_raw)

    # An archived dataset comes back byte for byte through a restore.
    chosen = archived[len(archived) // 2]
    request = request_restore(session, SYSTEM, chosen.id)
    session.commit()
    assert run_queued_restores(make_sessionmaker(engine), settings) == 1
    session.expire_all()
    assert (chosen.storage_state, request.status) == (StorageState.online, "done")
    for datafile in _files_of(session, chosen):
        path = Path(chosen.location) / datafile.path
        assert path.stat().st_size == datafile.size
        assert _xxh3(path) == datafile.checksum


def test_a_pass_after_the_demo_has_nothing_to_do(
    session: Session, settings: Settings, engine: Engine, built: DemoSummary
) -> None:
    sessions = make_sessionmaker(engine)
    records = _count(session, AuditRecord)
    today = utcnow().date()
    plan = plan_pass(session, settings, today).counts()
    session.rollback()
    assert plan == dict.fromkeys(plan, 0)
    again = run_pass(sessions, settings, today)
    assert again.status == "done"
    assert not any(again.summary.values()), again.summary
    assert _count(session, AuditRecord) == records

    # Later, the recent raw data is due; what is catalogued without files here is a
    # problem the pass reports each time and the audit trail records once.
    later = today + timedelta(days=settings.online_days + 30)
    first = run_pass(sessions, settings, later)
    problems = first.summary["archive_problems"]
    assert problems > 0
    assert _actions(session, "archive-problem") == problems
    second = run_pass(sessions, settings, later)
    assert (second.summary["archive_problems"], second.summary["archived"]) == (problems, 0)
    assert _actions(session, "archive-problem") == problems
    assert plan_pass(session, settings, later).counts()["archive"] == problems
