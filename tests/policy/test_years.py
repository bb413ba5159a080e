"""The data policy through simulated years, driven by `fairbeam policy run --as-of` as a
real process: a 2020 investigation is open with a findable DOI in 2024, an extended one
is not, a proprietary one's data is gone with an audit record, and an archived dataset
comes back byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.access.policy import SYSTEM
from fairbeam.access.service import principal_of
from fairbeam.catalogue.models import Investigation
from fairbeam.catalogue.schemas import InvestigationIn, ParticipantIn
from fairbeam.catalogue.service import (
    create_investigation,
    doi_states,
    get_investigation,
    investigation_out,
)
from fairbeam.config import Settings
from fairbeam.policy.extensions import decide_extension, request_extension
from fairbeam.policy.models import Doi, DoiState, PolicyPass
from fairbeam.policy.restore import request_restore
from fairbeam.policy.schemas import DecisionIn, ExtensionIn
from tests.policy.archive_data import audit_of, raw_dataset, state_of
from tests.policy.test_pass import fairbeam
from tests.world import World

START = datetime(2020, 3, 2, 8, tzinfo=UTC)
END = datetime(2020, 3, 5, 8, tzinfo=UTC)


def _proposal(session: Session, settings: Settings, code: str, kind: str = "standard") -> int:
    created = create_investigation(
        session,
        SYSTEM,
        InvestigationIn(
            code=code,
            title=f"Proposal {code}",
            instrument="ID23",
            start=START,
            end=END,
            proposal_type=kind,
            participants=[ParticipantIn(username="alice", role="principal_investigator")],
        ),
        settings,
    )
    session.commit()
    return created.id


def _pass(settings: Settings, day: date) -> dict[str, int]:
    done = fairbeam(settings, "policy", "run", "--as-of", day.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "done" and result["as_of"] == day.isoformat()
    summary: dict[str, int] = result["summary"]
    return summary


def _doi_state(session: Session, investigation_id: int) -> str | None:
    session.expire_all()
    row = session.scalar(select(Doi).where(Doi.investigation_id == investigation_id))
    return row.state if row is not None else None


def test_the_policy_through_the_years(world: World, session: Session, settings: Settings) -> None:
    opened = _proposal(session, settings, "MX-2020")
    extended = _proposal(session, settings, "MX-2020B")
    industrial = _proposal(session, settings, "IN-2020", "industrial")
    # The default release date: three years after the end; none for proprietary data.
    releases = {
        i.code: i.release_date
        for i in session.scalars(
            select(Investigation).where(Investigation.id.in_([opened, extended, industrial]))
        )
    }
    assert releases == {
        "MX-2020": datetime(2023, 3, 5, 8, tzinfo=UTC),
        "MX-2020B": releases["MX-2020B"],
        "IN-2020": None,
    }
    kept = raw_dataset(session, settings, "MX-2020", "lysozyme_0001")
    proprietary = raw_dataset(
        session, settings, "IN-2020", "catalyst_0001", proposal_type="industrial"
    )
    assert _doi_state(session, opened) == DoiState.registered

    # 2021: the data has outlived its 90 days on disk; proprietary data is not kept.
    summary = _pass(settings, date(2021, 3, 2))
    assert summary["archived"] == 1 and summary["deleted"] == 1 and summary["released"] == 0
    assert state_of(session, kept.dataset) == ("archived", {"archive"})
    assert kept.on_disk() == {}
    assert state_of(session, proprietary.dataset)[0] == "deleted"
    assert proprietary.on_disk() == {}
    (deleted,) = audit_of(session, proprietary.dataset, "delete")
    assert deleted.actor == "policy"

    # 2022: the PI of MX-2020B asks to keep it closed until 2030; a manager approves.
    alice = session.scalar(select(User).where(User.username == "alice"))
    assert alice is not None
    asked_at = datetime(2022, 6, 1, tzinfo=UTC)
    request = request_extension(
        session,
        principal_of(session, alice),
        "MX-2020B",
        ExtensionIn(release_date=datetime(2030, 1, 1, tzinfo=UTC), reason="patent pending"),
        now=asked_at,
    )
    decide_extension(
        session, world.principals["manager"], request.id, DecisionIn(approve=True), now=asked_at
    )
    session.commit()

    # 2024: MX-2020 is open with a findable DOI; the extended one is not.
    summary = _pass(settings, date(2024, 6, 1))
    assert summary["released"] == 1
    session.expire_all()
    assert _doi_state(session, opened) == DoiState.findable
    assert _doi_state(session, extended) == DoiState.registered
    assert session.get(Investigation, opened).released is not None  # type: ignore[union-attr]
    assert session.get(Investigation, extended).released is None  # type: ignore[union-attr]
    for ref, expected in (("MX-2020", (True, "findable")), ("MX-2020B", (False, "registered"))):
        investigation = get_investigation(session, ref)
        page = investigation_out(
            investigation, doi_states(session, [investigation.id]).get(investigation.id)
        )
        assert (page.public, page.doi_state) == expected

    # The archived dataset comes back byte for byte, run by the next pass (a server's
    # restore worker would run it at once: tests/policy/test_restore.py).
    request_restore(session, world.principals["manager"], kept.dataset)
    session.commit()
    summary = _pass(settings, date(2024, 6, 2))
    assert summary["restored"] == 1 and summary["archived"] == 0
    assert state_of(session, kept.dataset)[0] == "online"
    assert kept.on_disk() == kept.files

    # A second pass the same day finds nothing more to do.
    again = _pass(settings, date(2024, 6, 2))
    assert {k: v for k, v in again.items() if v} == {}
    # A dry run in 2031 shows the extended investigation's release, and changes nothing.
    plan = fairbeam(settings, "policy", "run", "--as-of", "2031-01-01", "--dry-run", "--json")
    # (with the world's investigations, released in real time from now on)
    release = json.loads(plan.stdout)["summary"]["plan"]["release"]
    assert extended in release["first"] and opened not in release["first"]
    assert _doi_state(session, extended) == DoiState.registered
    passes = session.scalars(select(PolicyPass).order_by(PolicyPass.id)).all()
    assert [(p.as_of.year, p.dry_run, p.status) for p in passes] == [
        (2021, False, "done"),
        (2024, False, "done"),
        (2024, False, "done"),
        (2024, False, "done"),
        (2031, True, "done"),
    ]
