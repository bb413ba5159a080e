"""A small facility with one account of every role, for access and API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import Role, User
from fairbeam.access.policy import Principal
from fairbeam.access.security import hash_password
from fairbeam.access.service import create_token, create_user, principal_of
from fairbeam.catalogue.models import (
    Datafile,
    Instrument,
    Investigation,
    Participant,
    ParticipantRole,
)
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.db.base import utcnow

ROLES = (
    "anonymous",
    "other_user",
    "participant",
    "staff",
    "other_staff",
    "manager",
    "software",
)


@dataclass
class World:
    """Ids and tokens of the facility built by `build_world`."""

    tokens: dict[str, str | None] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    closed_investigation: int = 0
    open_investigation: int = 0
    foreign_investigation: int = 0
    closed_dataset: int = 0
    open_dataset: int = 0
    foreign_dataset: int = 0
    closed_file: int = 0
    open_file: int = 0

    def headers(self, role: str) -> dict[str, str]:
        """Authorization headers of ``role`` (none for anonymous)."""
        token = self.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}


@cache
def _hash(password: str) -> str:
    # argon2 is slow on purpose; hashing each test password once keeps tests fast.
    return hash_password(password)


def _user(session: Session, username: str, password: str | None = None, **kwargs: Any) -> User:
    user = create_user(session, username, **kwargs)
    if password:
        user.password_hash = _hash(password)
    return user


def build_world(session: Session) -> World:
    """Two beamlines (ID23 with an embargoed and a released investigation, ID11 with an
    embargoed one) and a user, staff member, manager and software of each kind."""
    now = utcnow()
    session.add_all(
        [
            Instrument(name="ID23", full_name="MX beamline", techniques=["MX"]),
            Instrument(name="ID11", full_name="Materials science", techniques=["XRD", "3DXRD"]),
        ]
    )
    session.flush()
    world = World()
    users = {
        "other_user": _user(session, "bob", password="bob-password"),
        "participant": _user(session, "alice", password="alice-password"),
        "staff": _user(
            session, "stella", password="stella-password", role=Role.staff, instruments=["ID23"]
        ),
        "other_staff": _user(
            session, "oscar", password="oscar-password", role=Role.staff, instruments=["ID11"]
        ),
        "manager": _user(session, "maria", password="maria-password", role=Role.manager),
        "software": _user(session, "bliss-id23", role=Role.software, instruments=["ID23"]),
    }
    carol = _user(session, "carol", password="carol-password")
    world.tokens["anonymous"] = None
    for role, user in users.items():
        world.tokens[role] = create_token(session, user, name=f"{role} token")
        world.principals[role] = principal_of(session, user)
    id23 = session.query(Instrument).filter_by(name="ID23").one()
    id11 = session.query(Instrument).filter_by(name="ID11").one()

    def investigation(code: str, instrument: Instrument, released: bool, pi_id: int) -> int:
        inv = Investigation(
            code=code,
            title=f"Investigation {code}",
            abstract=f"Abstract of {code}",
            instrument_id=instrument.id,
            start=now - timedelta(days=400),
            end=now - timedelta(days=397),
            release_date=now - timedelta(days=10) if released else now + timedelta(days=700),
        )
        session.add(inv)
        session.flush()
        session.add(
            Participant(
                investigation_id=inv.id, user_id=pi_id, role=ParticipantRole.principal_investigator
            )
        )
        session.flush()
        return inv.id

    world.closed_investigation = investigation("MX-1001", id23, False, users["participant"].id)
    world.open_investigation = investigation("MX-0900", id23, True, carol.id)
    world.foreign_investigation = investigation("HC-2000", id11, False, carol.id)
    manager = world.principals["manager"]

    def dataset(code: str, name: str) -> int:
        (result,) = register_datasets(
            session,
            manager,
            [
                DatasetIn(
                    investigation=code,
                    name=name,
                    location=f"/data/visitor/{code}/{name}",
                    technique="MX",
                    sample="lysozyme",
                    parameters={"wavelength": {"value": 0.966, "unit": "angstrom"}},
                    files=[
                        {"path": f"{name}.h5", "size": 1024},
                        {"path": f"{name}_0001.h5", "size": 2048},
                    ],
                )
            ],
        )
        return result.id

    world.closed_dataset = dataset("MX-1001", "closed_0001")
    world.open_dataset = dataset("MX-0900", "open_0001")
    world.foreign_dataset = dataset("HC-2000", "foreign_0001")
    world.closed_file = (
        session.scalar(
            select(Datafile.id).where(Datafile.dataset_id == world.closed_dataset).limit(1)
        )
        or 0
    )
    world.open_file = (
        session.scalar(
            select(Datafile.id).where(Datafile.dataset_id == world.open_dataset).limit(1)
        )
        or 0
    )
    session.commit()
    return world
