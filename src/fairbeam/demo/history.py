"""Years of the data policy at the demo facility: real policy passes as of past days and
today (releases, archive bundles, deletions of data that is not kept, each audited), then
requests still waiting for the data manager: an embargo extension and a DOI request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fairbeam.access.models import User
from fairbeam.access.service import principal_of
from fairbeam.catalogue.models import Datafile, Dataset, Investigation, Participant, ParticipantRole
from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.demo.facility import SCIENTISTS
from fairbeam.demo.plan import add_years
from fairbeam.policy.collections import DoiRequestIn, create_request
from fairbeam.policy.extensions import request_extension
from fairbeam.policy.models import StorageState
from fairbeam.policy.schemas import ExtensionIn
from fairbeam.policy.service import run_pass

# Passes as of these many years ago, then today's.
PAST_PASSES = (3, 2, 1)
Progress = Callable[[str, int, int], None]


@dataclass
class History:
    """What the demo's policy passes and requests left."""

    passes: int = 0
    released: int = 0
    archived: int = 0
    archive_bytes: int = 0
    archive_problems: int = 0
    deleted: int = 0
    extension: int | None = None  # the pending embargo extension's id
    doi_request: int | None = None  # the pending DOI request's id


def run_history(
    sessions: sessionmaker[Session],
    settings: Settings,
    today: datetime,
    progress: Progress | None = None,
) -> History:
    """Run the policy passes of the demo's past years and today's, then leave a pending
    embargo extension and DOI request; each commits its own work."""
    report = progress or (lambda stage, done, total: None)
    history = History()
    days = [add_years(today, -years).date() for years in PAST_PASSES] + [today.date()]
    report("policy", 0, len(days))
    for done, day in enumerate(days, 1):
        record = run_pass(sessions, settings, day, trigger="demo")
        counts = record.summary
        history.passes += 1
        history.released += counts.get("released", 0)
        history.archived += counts.get("archived", 0)
        history.archive_bytes += counts.get("archive_bytes", 0)
        history.archive_problems += counts.get("archive_problems", 0)
        history.deleted += counts.get("deleted", 0)
        report("policy", done, len(days))
    with sessions() as session:
        history.extension = _pending_extension(session, settings)
        history.doi_request = _pending_doi_request(session)
        session.commit()
    return history


def _scientists(session: Session) -> dict[int, User]:
    names = [person.username for person in SCIENTISTS]
    return {u.id: u for u in session.scalars(select(User).where(User.username.in_(names)))}


def _pending_extension(session: Session, settings: Settings) -> int | None:
    """The principal investigator of the next investigation to be released asks to keep
    its data closed a year longer: the paper is not out yet."""
    now = utcnow()
    scientists = _scientists(session)
    candidates = session.execute(
        select(Investigation, Participant.user_id)
        .join(Participant, Participant.investigation_id == Investigation.id)
        .where(
            Participant.role == ParticipantRole.principal_investigator,
            Participant.user_id.in_(list(scientists)),
            Investigation.released.is_(None),
            Investigation.release_date > now,
            Investigation.proposal_type.not_in(settings.not_kept_proposal_types),
        )
        .order_by(Investigation.release_date, Investigation.id)
        .limit(1)
    ).first()
    if candidates is None:
        return None
    investigation, pi = candidates
    assert investigation.release_date is not None
    data = ExtensionIn(
        release_date=add_years(investigation.release_date, 1),
        reason=(
            "The paper on these measurements is in review; we ask to keep the data closed "
            "until it is published."
        ),
    )
    principal = principal_of(session, scientists[pi])
    return request_extension(session, principal, investigation.id, data).id


def _pending_doi_request(session: Session) -> int | None:
    """A scientist (not the first demo user, whose own requests stay theirs to make) asks
    for a DOI on the datasets behind a paper: two of an open investigation of theirs."""
    scientists = _scientists(session)
    asker = next((u for u in scientists.values() if u.username == SCIENTISTS[1].username), None)
    if asker is None:
        return None
    found = session.execute(
        select(Investigation.id, Investigation.title)
        .join(Participant, Participant.investigation_id == Investigation.id)
        .where(Participant.user_id == asker.id, Investigation.released.is_not(None))
        .where(
            select(func.count())
            .select_from(Dataset)
            .where(
                Dataset.investigation_id == Investigation.id,
                Dataset.storage_state != StorageState.deleted,
            )
            .scalar_subquery()
            >= 2
        )
        .order_by(Investigation.start.desc(), Investigation.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    datasets = list(
        session.scalars(
            select(Dataset.id)
            .where(Dataset.investigation_id == found.id)
            .order_by(Dataset.id)
            .limit(2)
        )
    )
    data = DoiRequestIn(
        title=f"{found.title}: the datasets behind the paper",
        description="The raw measurement and its reduction, cited in the paper's data section.",
        datasets=datasets,
    )
    return create_request(session, principal_of(session, asker), data).id


def files_on_disk(session: Session) -> tuple[int, int]:
    """How many of the demo's real (NeXus) files are online, and their bytes."""
    count, size = session.execute(
        select(func.count(), func.coalesce(func.sum(Datafile.size), 0)).where(
            Datafile.checksum.is_not(None), Datafile.tier == "online"
        )
    ).one()
    return int(count), int(size)
