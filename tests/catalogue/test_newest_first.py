"""A dataset list sorted newest first starts below the latest dataset the caller may
see: whatever the order datasets arrive in, the list holds every visible one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from fairbeam.access.models import Role
from fairbeam.access.policy import ANONYMOUS, Principal
from fairbeam.access.service import create_user, principal_of
from fairbeam.catalogue.datasets import DatasetFilters, list_datasets, newest_visible_start
from fairbeam.catalogue.models import Instrument, Investigation, Participant, ParticipantRole
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.db.base import utcnow

YEAR = timedelta(days=365)


def _investigations(session: Session) -> tuple[Principal, Principal]:
    """OPEN-1 (released), CLOSED-1 and CLOSED-2 (under embargo, the second with a
    participant); the manager and that participant."""
    session.add(Instrument(name="ID23", techniques=["MX"]))
    session.flush()
    (instrument,) = session.query(Instrument).all()
    now = utcnow()
    for code, release in (("OPEN-1", now - YEAR), ("CLOSED-1", now + YEAR), ("CLOSED-2", None)):
        session.add(
            Investigation(
                code=code,
                title=code,
                instrument_id=instrument.id,
                start=now - 5 * YEAR,
                release_date=release,
            )
        )
    manager = create_user(session, "maria", role=Role.manager)
    visitor = create_user(session, "sam")
    session.flush()
    closed = session.query(Investigation).filter_by(code="CLOSED-2").one()
    session.add(
        Participant(
            investigation_id=closed.id,
            user_id=visitor.id,
            role=ParticipantRole.principal_investigator,
        )
    )
    session.commit()
    return principal_of(session, manager), principal_of(session, visitor)


def _register(session: Session, manager: Principal, code: str, name: str, start: datetime) -> None:
    register_datasets(
        session,
        manager,
        [DatasetIn(investigation=code, name=name, location=f"/data/{code}/{name}", start=start)],
    )
    session.commit()


def _names(session: Session, principal: Principal) -> list[str]:
    names, cursor = [], None
    while True:
        page = list_datasets(session, principal, DatasetFilters(), "-start", 2, cursor)
        names += [d.name for d in page.items]
        if page.next is None:
            return names
        cursor = page.next


def test_the_list_holds_every_visible_dataset_in_any_order_of_arrival(session: Session) -> None:
    manager, visitor = _investigations(session)
    now = utcnow()
    assert newest_visible_start(session, ANONYMOUS) is None
    assert _names(session, ANONYMOUS) == []
    for n in range(5):  # the newest datasets are under embargo
        _register(session, manager, "CLOSED-1", f"closed-{n}", now - timedelta(days=n))
    _register(session, manager, "OPEN-1", "open-old", now - 4 * YEAR)
    assert _names(session, ANONYMOUS) == ["open-old"]
    # A dataset registered late into the released investigation, newer than any of it.
    _register(session, manager, "OPEN-1", "open-late", now - timedelta(days=30))
    assert _names(session, ANONYMOUS) == ["open-late", "open-old"]
    # A participant's own embargoed dataset comes first for them, not for others.
    _register(session, manager, "CLOSED-2", "mine", now - timedelta(days=60))
    assert _names(session, visitor) == ["open-late", "mine", "open-old"]
    assert _names(session, ANONYMOUS) == ["open-late", "open-old"]
    assert len(_names(session, manager)) == 8


def test_a_dataset_moved_later_stays_in_the_list(session: Session) -> None:
    manager, _ = _investigations(session)
    now = utcnow()
    _register(session, manager, "CLOSED-1", "closed", now - timedelta(days=1))
    _register(session, manager, "OPEN-1", "open", now - 4 * YEAR)
    _register(session, manager, "OPEN-1", "open", now - timedelta(days=2))  # moved
    assert _names(session, ANONYMOUS) == ["open"]
    bound = newest_visible_start(session, ANONYMOUS)
    assert bound is not None and bound.astimezone(UTC) >= now - timedelta(days=2, seconds=1)
