"""A beamline, a proposal and a manager to register catalogue entries with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fairbeam.access.models import Role
from fairbeam.access.policy import Principal
from fairbeam.access.service import create_user, principal_of
from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn


@pytest.fixture
def manager(session: Session) -> Principal:
    """A manager, with beamline ID23 and the proposal MX-1 in the catalogue."""
    session.add(Instrument(name="ID23", techniques=["MX"]))
    session.flush()
    instrument = session.query(Instrument).one()
    session.add(
        Investigation(
            code="MX-1",
            title="Lysozyme",
            instrument_id=instrument.id,
            start=datetime(2025, 1, 1, tzinfo=UTC),
        )
    )
    user = create_user(session, "maria", role=Role.manager)
    session.commit()
    return principal_of(session, user)


def register(session: Session, principal: Principal, **fields: Any) -> int:
    """Register one dataset of MX-1 and commit; its id."""
    fields.setdefault("location", f"/data/MX-1/{fields['name']}")
    (result,) = register_datasets(session, principal, [DatasetIn(investigation="MX-1", **fields)])
    session.commit()
    return result.id
