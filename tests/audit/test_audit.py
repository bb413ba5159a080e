"""The audit trail over HTTP: filters, pages newest first, streamed CSV and JSON exports,
and the records of access-rule changes."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.access.policy import SYSTEM
from fairbeam.access.service import create_token
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.schemas import InvestigationIn, ParticipantIn
from fairbeam.catalogue.service import create_investigation
from fairbeam.db.base import utcnow
from tests.world import World


def _all(http: httpx.Client, world: World, **params: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        query = {**params, "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/audit", params=query, headers=world.headers("manager"))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            return items


def test_access_rule_changes_are_audited(world: World, session: Session) -> None:
    users = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "user.create").order_by(AuditRecord.id)
    ).all()
    stella = next(r for r in users if r.detail["username"] == "stella")
    assert stella.detail["role"] == "staff" and stella.detail["instruments"] == ["ID23"]
    tokens = session.scalars(select(AuditRecord).where(AuditRecord.action == "token.create")).all()
    assert {r.detail["name"] for r in tokens} >= {"manager token", "software token"}
    assert all("fb_" not in json.dumps(r.detail) or len(r.detail["prefix"]) == 10 for r in tokens)

    create_investigation(
        session,
        SYSTEM,
        InvestigationIn(
            code="MX-3000",
            title="With participants",
            instrument="ID23",
            start=utcnow(),
            participants=[
                ParticipantIn(username="alice", role="principal_investigator"),
                ParticipantIn(username="bob", role="co_investigator"),
            ],
        ),
    )
    session.commit()
    added = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "participant.add").order_by(AuditRecord.id)
    ).all()
    assert [(r.detail["username"], r.detail["role"], r.actor) for r in added] == [
        ("alice", "principal_investigator", "fairbeam"),
        ("bob", "co_investigator", "fairbeam"),
    ]


def test_login_sessions_are_not_audited_as_token_changes(world: World, session: Session) -> None:
    before = session.scalars(select(AuditRecord).where(AuditRecord.action == "token.create")).all()
    bob = session.scalar(select(User).where(User.username == "bob"))
    assert bob is not None
    create_token(session, bob, name="login", kind="session", hours=1)
    create_token(session, bob, name="notebook")
    session.commit()
    after = session.scalars(select(AuditRecord).where(AuditRecord.action == "token.create")).all()
    assert [r.detail["name"] for r in after[len(before) :]] == ["notebook"]


def test_list_filters_and_pages_newest_first(
    http: httpx.Client, world: World, session: Session
) -> None:
    everything = _all(http, world)
    ids = [item["id"] for item in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    assert len(ids) == len(session.scalars(select(AuditRecord.id)).all())

    created = _all(http, world, action="user.create")
    assert {item["action"] for item in created} == {"user.create"}
    assert len(created) == 7  # the world's accounts
    maria = session.scalar(select(User.id).where(User.username == "maria"))
    one = _all(http, world, object_type="user", object_id=str(maria), action="user.create")
    assert [item["detail"]["username"] for item in one] == ["maria"]  # type: ignore[index]
    assert _all(http, world, actor="nobody") == []

    # since and until bound the time; a record put in the past shows the bounds.
    old = AuditRecord(action="release", object_type="investigation", object_id="1", actor="policy")
    old.at = utcnow() - timedelta(days=400)
    session.add(old)
    session.commit()
    a_year_ago = (utcnow() - timedelta(days=365)).isoformat()
    assert [i["id"] for i in _all(http, world, until=a_year_ago)] == [old.id]
    assert old.id not in [i["id"] for i in _all(http, world, since=a_year_ago)]
    bad = http.get("/api/audit?since=yesterday", headers=world.headers("manager"))
    assert bad.status_code == 422 and "since" in bad.json()["detail"]


def test_export_streams_the_same_records(
    http: httpx.Client, world: World, session: Session
) -> None:
    listed = _all(http, world, action="token.create")
    manager = world.headers("manager")
    as_csv = http.get("/api/audit/export", params={"action": "token.create"}, headers=manager)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="audit.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [int(r["id"]) for r in rows] == [i["id"] for i in listed]
    assert json.loads(rows[0]["detail"]) == listed[0]["detail"]

    as_json = http.get(
        "/api/audit/export", params={"format": "json", "action": "token.create"}, headers=manager
    )
    assert [r["id"] for r in as_json.json()] == [i["id"] for i in listed]
    # Larger than one export batch: every record, once, newest first.
    session.add_all(
        AuditRecord(action="bulk", object_type="dataset", object_id=str(n), actor="policy")
        for n in range(2500)
    )
    session.commit()
    bulk = http.get(
        "/api/audit/export", params={"format": "json", "action": "bulk"}, headers=manager
    )
    got = [int(r["object_id"]) for r in bulk.json()]
    assert got == list(range(2499, -1, -1))
    empty = http.get("/api/audit/export", params={"actor": "nobody"}, headers=manager)
    assert empty.text.strip() == "id,at,actor,actor_id,action,object_type,object_id,detail"
