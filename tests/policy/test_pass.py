"""The policy pass: its plan, a dry run that changes nothing, a pass that releases, a
second pass that finds nothing more, one pass at a time, and its record."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Investigation
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.db.base import utcnow
from fairbeam.policy.models import Doi, DoiState, PolicyPass
from fairbeam.policy.schedule import seconds_until_due, start_policy_schedule
from fairbeam.policy.service import PassRunning, plan_pass, run_pass
from tests.world import World

FAIRBEAM = str(Path(sys.executable).parent / "fairbeam")


def fairbeam(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The `fairbeam` command in a fresh process, on this test's catalogue and folders."""
    env = {
        **os.environ,
        "FAIRBEAM_DATABASE_URL": settings.database_url,
        "FAIRBEAM_VAR": str(settings.var),
        "FAIRBEAM_STORAGE": str(settings.storage),
        "FAIRBEAM_ARCHIVE": str(settings.archive),
        "FAIRBEAM_DATA_ROOTS": ",".join(str(root) for root in settings.data_roots),
    }
    return subprocess.run([FAIRBEAM, *args], env=env, capture_output=True, text=True, timeout=120)


def _counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(AuditRecord)) or 0,
        session.scalar(select(func.count()).select_from(Doi)) or 0,
        session.scalar(
            select(func.count())
            .select_from(Investigation)
            .where(Investigation.released.is_not(None))
        )
        or 0,
    )


def test_dry_run_changes_nothing_but_records_its_plan(
    world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    before = _counts(session)
    plan = plan_pass(session, settings, utcnow().date())
    assert plan.steps["release"].count == 1
    assert plan.steps["release"].first == [world.open_investigation]
    assert plan.steps["doi"].count == 3  # the world's investigations have none yet
    row = run_pass(make_sessionmaker(engine), settings, dry_run=True)
    assert row.dry_run and row.status == "done"
    assert row.summary["plan"]["release"] == {"count": 1, "first": [world.open_investigation]}
    assert _counts(session) == before
    assert session.scalar(select(func.count()).select_from(PolicyPass)) == 1


def test_pass_releases_then_a_second_pass_does_nothing_more(
    world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    first = run_pass(sessions, settings)
    assert first.status == "done" and not first.dry_run
    assert first.summary["released"] == 1
    assert first.summary["dois_minted"] == 2  # the released one got its DOI at release
    session.expire_all()
    released = session.get(Investigation, world.open_investigation)
    assert released is not None and released.released is not None
    doi = session.scalar(select(Doi).where(Doi.investigation_id == world.open_investigation))
    assert doi is not None and doi.state == DoiState.findable
    closed = session.scalar(select(Doi).where(Doi.investigation_id == world.closed_investigation))
    assert closed is not None and closed.state == DoiState.registered
    audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "release")).all()
    assert [(a.object_id, a.actor) for a in audit] == [(str(world.open_investigation), "policy")]

    before = _counts(session)
    second = run_pass(sessions, settings)
    assert second.status == "done"
    assert {k: v for k, v in second.summary.items() if v} == {}
    assert _counts(session) == before


def test_one_pass_at_a_time(world: World, engine: Engine, settings: Settings) -> None:
    sessions = make_sessionmaker(engine)
    inside, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold(step: str, done: int, total: int) -> None:
        inside.set()
        release.wait(30)

    def first() -> None:
        outcome["first"] = run_pass(sessions, settings, progress=hold)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(30)
        with pytest.raises(PassRunning, match="is running since"):
            run_pass(sessions, settings)
        # The command says so in one line and exits non-zero.
        other = fairbeam(settings, "policy", "run")
        assert other.returncode == 1
        assert "is running since" in other.stderr
    finally:
        release.set()
        thread.join(60)
    passes = make_sessionmaker(engine)().scalars(select(PolicyPass)).all()
    assert [p.status for p in passes] == ["done"]


def test_a_pass_left_running_by_a_dead_process_does_not_block(
    world: World, session: Session, engine: Engine, settings: Settings
) -> None:
    # Its heartbeat is fresh: the process died a moment ago, holding no lock any more.
    dead = PolicyPass(as_of=utcnow().date(), status="running")
    dead.started = dead.finished = utcnow() - timedelta(seconds=5)
    session.add(dead)
    session.commit()
    done = run_pass(make_sessionmaker(engine), settings)
    assert done.status == "done"
    session.expire_all()
    assert session.get(PolicyPass, dead.id).status == "failed"  # type: ignore[union-attr]


def test_a_failed_pass_is_recorded(world: World, engine: Engine, settings: Settings) -> None:
    def broken(step: str, done: int, total: int) -> None:
        raise RuntimeError("the progress display broke")

    with pytest.raises(RuntimeError):
        run_pass(make_sessionmaker(engine), settings, progress=broken)
    with make_sessionmaker(engine)() as session:
        (row,) = session.scalars(select(PolicyPass)).all()
        assert row.status == "failed"
        assert "the progress display broke" in row.error
        assert row.summary["bundles_finished"] == 0  # the steps done before it are kept
    # The next pass runs.
    assert run_pass(make_sessionmaker(engine), settings).status == "done"


def test_command_refuses_a_bad_date_in_one_line(settings: Settings) -> None:
    bad = fairbeam(settings, "policy", "run", "--as-of", "2024-02-30")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "error: --as-of '2024-02-30' is not a date: use YYYY-MM-DD"
    ]


def test_the_schedule_runs_a_pass_and_waits_an_interval(
    world: World, engine: Engine, settings: Settings
) -> None:
    sessions = make_sessionmaker(engine)
    never = start_policy_schedule(
        sessions, settings.model_copy(update={"policy_interval_hours": 0}), 0
    )
    never()
    daily = settings.model_copy(update={"policy_interval_hours": 24})
    stop = start_policy_schedule(sessions, daily, first_delay=0)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sessions() as session:
                done = session.scalars(select(PolicyPass).where(PolicyPass.status == "done")).all()
            if done:
                break
            time.sleep(0.2)
        assert [(p.trigger, p.summary["released"]) for p in done] == [("schedule", 1)]
        wait = seconds_until_due(sessions, timedelta(hours=24), utcnow())
        assert 23 * 3600 < wait <= 24 * 3600
    finally:
        stop()
    with sessions() as session:
        assert len(session.scalars(select(PolicyPass)).all()) == 1
