"""The policy pass: plan what is due as of a day, then do it step by step, recording the
pass (a PolicyPass row with counts per step).

Order: finish what a killed pass left; release; DOIs for investigations without one;
sync DOIs the registry missed; publish collection DOIs whose data is now open; archive;
delete what is not kept or past retention; run queued restores. Each object is
committed on its own, so a kill loses at most the object in hand and the next pass
finishes it. One pass runs at a time, across processes: a pass holds the pass lock
(policy/passlock.py) for its whole life, which dies with its process, and records a
PolicyPass row in status ``running`` with a heartbeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.policy import Principal, require_manager
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.catalogue.schemas import Page
from fairbeam.catalogue.service import paginate
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.errors import Conflict, NotFound
from fairbeam.policy import archive, archive_batch, doi, restore, retention
from fairbeam.policy.models import (
    Doi,
    PolicyPass,
    RestoreRequest,
    RestoreStatus,
    StorageState,
)
from fairbeam.policy.passlock import PassLock
from fairbeam.policy.release import count_due_for_release, due_for_release, release_due
from fairbeam.policy.schemas import PassPlanOut, PolicyPassOut

log = logging.getLogger("fairbeam.policy")
Sessions = sessionmaker[Session]
# step, objects done, objects planned (the CLI draws a progress bar per step).
Progress = Callable[[str, int, int], None]
FIRST = 10  # ids shown per step of a plan
BATCH = 500
STEPS = ("resume", "release", "doi", "sync", "archive", "delete", "restore")


class PassRunning(Conflict):
    """Another policy pass is running."""


@dataclass
class PlanStep:
    count: int
    first: list[int] = field(default_factory=list)


@dataclass
class PassPlan:
    """What a pass as of ``as_of`` would do: a count and the first ids of each step."""

    as_of: date
    steps: dict[str, PlanStep]

    def counts(self) -> dict[str, int]:
        """The count of each step."""
        return {name: step.count for name, step in self.steps.items()}

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON."""
        return {
            "as_of": self.as_of.isoformat(),
            "steps": {n: {"count": s.count, "first": s.first} for n, s in self.steps.items()},
        }


def plan_pass(session: Session, settings: Settings, as_of: date) -> PassPlan:
    """The plan of a pass as of ``as_of``, read through the indexes, changing nothing."""
    unfinished = archive.unfinished_work(session)
    archive_ids = archive.due_for_archive(session, settings, as_of)
    delete_ids = retention.due_for_deletion(session, settings, as_of)
    queued = select(RestoreRequest.id).where(RestoreRequest.status == RestoreStatus.queued)
    without_doi = doi.investigations_without_doi(session)
    steps = {
        "resume": PlanStep(
            len(unfinished.bundles) + len(unfinished.restores), unfinished.bundles[:FIRST]
        ),
        "release": PlanStep(
            count_due_for_release(session, as_of), due_for_release(session, as_of, FIRST)
        ),
        "doi": PlanStep(len(without_doi), without_doi[:FIRST]),
        "sync": PlanStep(
            session.scalar(select(func.count()).select_from(Doi).where(Doi.synced.is_(False))) or 0,
            list(
                session.scalars(
                    select(Doi.id).where(Doi.synced.is_(False)).order_by(Doi.id).limit(FIRST)
                )
            ),
        ),
        "archive": PlanStep(len(archive_ids), archive_ids[:FIRST]),
        "delete": PlanStep(len(delete_ids), delete_ids[:FIRST]),
        "restore": PlanStep(
            session.scalar(select(func.count()).select_from(queued.subquery())) or 0,
            list(session.scalars(queued.order_by(RestoreRequest.id).limit(FIRST))),
        ),
    }
    return PassPlan(as_of, steps)


# One pass at a time --------------------------------------------------------


def running_pass(session: Session) -> PolicyPass | None:
    """The newest pass recorded as running (alive only while its process holds the lock)."""
    return session.scalar(
        select(PolicyPass)
        .where(PolicyPass.status == "running", PolicyPass.dry_run.is_(False))
        .order_by(PolicyPass.id.desc())
        .limit(1)
    )


def _claim(session: Session, lock: PassLock, as_of: date, trigger: str) -> PolicyPass:
    """Take the pass lock and record a new running pass; PassRunning when another holds it."""
    if not lock.acquire():
        other = running_pass(session)
        session.rollback()
        what = (
            f"policy pass {other.id} (as of {other.as_of}, {other.trigger}) is running since "
            f"{other.started:%Y-%m-%d %H:%M:%S} UTC"
            if other is not None
            else "another policy pass is starting"
        )
        raise PassRunning(f"{what}; this one does not start")
    # With the lock held, a pass still recorded as running died with its process.
    session.execute(
        update(PolicyPass)
        .where(PolicyPass.status == "running", PolicyPass.dry_run.is_(False))
        .values(status="failed", error="the process running it stopped", finished=utcnow())
    )
    claimed = PolicyPass(as_of=as_of, trigger=trigger, dry_run=False, status="running")
    claimed.started = utcnow()
    # ``finished`` holds the heartbeat while the pass runs.
    claimed.finished = claimed.started
    session.add(claimed)
    session.commit()
    return claimed


class _Recorder:
    """Keeps the pass row's counts and heartbeat current, in a session of its own."""

    def __init__(self, sessions: Sessions, pass_id: int, progress: Progress | None) -> None:
        self.sessions = sessions
        self.pass_id = pass_id
        self.progress = progress
        self.summary: dict[str, Any] = {}
        self.beat = utcnow()

    def save(self, **values: Any) -> None:
        with self.sessions() as session:
            session.execute(
                update(PolicyPass)
                .where(PolicyPass.id == self.pass_id)
                .values(summary=dict(self.summary), **values)
            )
            session.commit()
        self.beat = utcnow()

    def tick(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)
        if utcnow() - self.beat > timedelta(seconds=30):
            self.save(finished=utcnow())

    def step(self, counts: dict[str, int]) -> None:
        self.summary.update(counts)
        self.save(finished=utcnow())


# The pass ------------------------------------------------------------------


def run_pass(
    sessions: Sessions,
    settings: Settings,
    as_of: date | None = None,
    dry_run: bool = False,
    trigger: str = "command",
    progress: Progress | None = None,
) -> PolicyPass:
    """Run (or with ``dry_run``, only plan) a pass as of ``as_of`` (default today) and
    return its record; PassRunning when another pass is alive."""
    as_of = as_of or utcnow().date()
    if dry_run:
        with sessions() as session:
            plan = plan_pass(session, settings, as_of)
            now = utcnow()
            row = PolicyPass(
                as_of=as_of,
                trigger=trigger,
                dry_run=True,
                status="done",
                summary={"plan": plan.as_dict()["steps"]},
                started=now,
                finished=now,
            )
            session.add(row)
            session.commit()
            session.refresh(row)
            session.expunge(row)
            return row
    lock = PassLock(sessions.kw["bind"])
    with sessions() as session:
        claimed = _claim(session, lock, as_of, trigger)
        pass_id = claimed.id
    try:
        with sessions() as session:
            plan = plan_pass(session, settings, as_of)
        recorder = _Recorder(sessions, pass_id, progress)
        try:
            _steps(sessions, settings, as_of, plan, recorder)
        except BaseException as exc:
            recorder.save(status="failed", error=f"{type(exc).__name__}: {exc}", finished=utcnow())
            log.exception("policy pass %s failed", pass_id)
            raise
        recorder.save(status="done", finished=utcnow())
    finally:
        lock.release()
    with sessions() as session:
        done = session.get(PolicyPass, pass_id)
        assert done is not None
        session.expunge(done)
        return done


def _steps(
    sessions: Sessions, settings: Settings, as_of: date, plan: PassPlan, recorder: _Recorder
) -> None:
    totals = plan.counts()

    def ticker(step: str) -> Callable[[int], None]:
        return lambda done: recorder.tick(step, done, totals[step])

    resumed = resume_unfinished(sessions, settings)
    recorder.step(resumed)
    recorder.step(release_due(sessions, settings, as_of, ticker("release")))
    recorder.step(_mint_missing_dois(sessions, settings, ticker("doi")))
    with sessions() as session:
        synced = doi.sync_pending(session, settings)
        published = doi.publish_ready_collections(session, settings, as_of)
    recorder.step({"dois_synced": synced, "collections_published": published})
    recorder.step(_archive_due(sessions, settings, as_of, ticker("archive")))
    recorder.step(_delete_due(sessions, settings, as_of, ticker("delete")))
    recorder.step({"restored": restore.run_queued_restores(sessions, settings)})


def _mint_missing_dois(
    sessions: Sessions, settings: Settings, tick: Callable[[int], None]
) -> dict[str, int]:
    """DOIs (registered) for investigations created without one, committing each."""
    minted = failed = 0
    skipped: set[int] = set()
    with sessions() as session:
        while True:
            ids = [
                i
                for i in doi.investigations_without_doi(session, BATCH + len(skipped))
                if i not in skipped
            ]
            session.rollback()
            if not ids:
                break
            for investigation_id in ids:
                try:
                    investigation = session.get(Investigation, investigation_id)
                    if (
                        investigation is None
                        or doi.ensure_investigation_doi(session, settings, investigation) is None
                    ):
                        skipped.add(investigation_id)
                    else:
                        minted += 1
                    session.commit()
                except Exception:
                    session.rollback()
                    skipped.add(investigation_id)
                    failed += 1
                    log.exception("DOI of investigation %s failed", investigation_id)
                tick(minted + failed)
    return {"dois_minted": minted, "doi_failed": failed}


def _archive_due(
    sessions: Sessions, settings: Settings, as_of: date, tick: Callable[[int], None]
) -> dict[str, int]:
    """Archive what has outlived its days on disk, a batch of datasets per commit of
    each step (fairbeam.policy.archive_batch.archive_datasets)."""
    counts = {"archived": 0, "archive_problems": 0, "archive_bytes": 0}
    tried: set[int] = set()
    # Enough batches per call that its lanes stay busy: with a few, the last batch
    # of each call ran alone while the other lanes waited for the next call.
    chunk = archive_batch.BATCH * archive_batch.LANES * 5
    while True:
        with sessions() as session:
            due = archive.due_for_archive(session, settings, as_of, chunk + len(tried))
        ids = [i for i in due if i not in tried]
        if not ids:
            return counts
        tried.update(ids)
        try:
            outcomes = archive_batch.archive_datasets(sessions, settings, ids)
        except Exception:
            log.exception("archive of datasets %s to %s failed", ids[0], ids[-1])
            counts["archive_problems"] += len(ids)
        else:
            for outcome in outcomes:
                if outcome.status == "archived":
                    counts["archived"] += 1
                    counts["archive_bytes"] += outcome.size
                elif outcome.status == "problem":
                    counts["archive_problems"] += 1
        tick(len(tried))


def _delete_due(
    sessions: Sessions, settings: Settings, as_of: date, tick: Callable[[int], None]
) -> dict[str, int]:
    """Delete the data the policy does not keep, a dataset per commit."""
    with sessions() as session:
        due = retention.due_for_deletion(session, settings, as_of)
    deleted = failed = 0
    for done, dataset_id in enumerate(due, 1):
        try:
            retention.delete_dataset_data(sessions, settings, dataset_id, as_of)
            with sessions() as session:
                state = session.scalar(
                    select(Dataset.storage_state).where(Dataset.id == dataset_id)
                )
            if state == StorageState.deleted:
                deleted += 1
            else:
                failed += 1
        except Exception:
            failed += 1
            log.exception("deletion of dataset %s's data failed", dataset_id)
        tick(done)
    return {"deleted": deleted, "delete_failed": failed}


def last_pass(session: Session) -> PolicyPass | None:
    """The newest pass that was not a dry run."""
    return session.scalar(
        select(PolicyPass)
        .where(PolicyPass.dry_run.is_(False))
        .order_by(PolicyPass.started.desc(), PolicyPass.id.desc())
        .limit(1)
    )


def pass_out(row: PolicyPass) -> PolicyPassOut:
    """The API view of a pass (a running pass's heartbeat is not its end)."""
    return PolicyPassOut(
        id=row.id,
        as_of=row.as_of,
        started=row.started,
        finished=None if row.status == "running" else row.finished,
        trigger=row.trigger,
        dry_run=row.dry_run,
        status=row.status,
        summary=row.summary,
        error=row.error,
    )


def list_passes(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> Page[PolicyPassOut]:
    """Passes, newest first (managers)."""
    require_manager(principal)
    rows, next_cursor = paginate(
        session, select(PolicyPass), PolicyPass, (("id",), True), limit, cursor
    )
    return Page(items=[pass_out(r) for r in rows], next=next_cursor)


def get_pass(session: Session, principal: Principal, pass_id: int) -> PolicyPassOut:
    """One pass (managers)."""
    require_manager(principal)
    row = session.get(PolicyPass, pass_id)
    if row is None:
        raise NotFound(f"policy pass {pass_id} not found")
    return pass_out(row)


def next_plan(
    session: Session, principal: Principal, settings: Settings, as_of: date | None
) -> PassPlanOut:
    """The plan of the next pass (managers)."""
    require_manager(principal)
    plan = plan_pass(session, settings, as_of or utcnow().date())
    return PassPlanOut.model_validate(plan.as_dict())


def resume_unfinished(
    sessions: Sessions, settings: Settings, progress: Callable[[str], Any] | None = None
) -> dict[str, int]:
    """Finish what a killed pass left: bundles are taken to complete (or discarded when
    they fail verification), restores of dead processes queued again; counts."""
    with sessions() as session:
        work = archive.unfinished_work(session)
    outcomes = archive_batch.archive_datasets(sessions, settings, work.bundles)
    for outcome in outcomes:
        if progress is not None:
            progress(f"dataset {outcome.dataset_id}: {outcome.status}")
    requeued = restore.requeue_abandoned(sessions)
    return {
        "bundles_finished": sum(1 for o in outcomes if o.status == "archived"),
        "bundles_failed": sum(1 for o in outcomes if o.status == "problem"),
        "restores_requeued": requeued,
    }
