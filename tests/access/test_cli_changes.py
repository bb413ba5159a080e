"""`fairbeam user set` and `fairbeam token revoke`, the real console script against this
test's catalogue: the change, its audit record, one-line errors and --json."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.audit.models import AuditRecord
from tests.cli.test_cli import Fairbeam, _one_line_error, fairbeam  # noqa: F401
from tests.world import World


def _actions(session: Session, action: str) -> list[AuditRecord]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
    )


def test_user_set(fairbeam: Fairbeam, world: World, session: Session, http: httpx.Client) -> None:  # noqa: F811
    moved = fairbeam("user", "set", "stella", "--instrument", "ID11")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "stella is staff on ID11"
    stella = world.headers("staff")
    assert http.get(f"/api/datasets/{world.closed_dataset}", headers=stella).status_code == 404
    (added,) = _actions(session, "instrument_staff.add")
    assert (added.actor, added.detail["instrument"], added.detail["before"]) == (
        "fairbeam",
        "ID11",
        ["ID23"],
    )

    data = fairbeam.json("user", "set", "bob", "--disable")
    assert data == {
        "id": world.principals["other_user"].user_id,
        "username": "bob",
        "role": "user",
        "instruments": [],
        "active": False,
    }
    assert http.get("/api/me", headers=world.headers("other_user")).status_code == 401
    assert "disabled" in fairbeam("user", "set", "bob", "--role", "staff").stdout
    enabled = fairbeam.json("user", "set", "bob", "--enable", "--no-instruments")
    assert (enabled["role"], enabled["active"]) == ("staff", True)
    updates = _actions(session, "user.update")
    assert [(r.detail["before"], r.detail["after"]) for r in updates] == [
        ({"active": True}, {"active": False}),
        ({"role": "user"}, {"role": "staff"}),
        ({"active": False}, {"active": True}),
    ]

    _one_line_error(fairbeam("user", "set", "nobody", "--role", "staff"), "'nobody' does not exist")
    _one_line_error(fairbeam("user", "set", "oscar", "--instrument", "ID99"), "'ID99'", "ID23")
    _one_line_error(fairbeam("user", "set", "maria", "--role", "user"), "last active manager")
    _one_line_error(
        fairbeam("user", "set", "oscar", "--instrument", "ID23", "--no-instruments"), "not both"
    )
    as_json = fairbeam("user", "set", "nobody", "--disable", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"detail": "user 'nobody' does not exist"}
    usage = fairbeam("user", "set", "bob", "--role", "wizard")
    assert usage.returncode == 2 and "wizard" in usage.stderr


def test_token_revoke(
    fairbeam: Fairbeam,  # noqa: F811
    world: World,
    session: Session,
    http: httpx.Client,
) -> None:
    # By the token itself (a leaked one).
    leaked = world.tokens["software"]
    assert leaked is not None
    result = fairbeam("token", "revoke", leaked)
    assert result.returncode == 0, result.stderr
    assert "revoked token" in result.stdout and "bliss-id23" in result.stdout
    assert http.get("/api/me", headers=world.headers("software")).status_code == 401

    # By name, by id, and a name several tokens share.
    data = fairbeam.json("token", "revoke", "participant token")
    assert (data["username"], data["revoked"]) == ("alice", True)
    assert http.get("/api/me", headers=world.headers("participant")).status_code == 401
    first = fairbeam.json("token", "create", "bob", "--label", "notebook")
    fairbeam.json("token", "create", "carol", "--label", "notebook")
    shared = _one_line_error(fairbeam("token", "revoke", "notebook"), "2 live tokens", "bob")
    assert "carol" in shared and "give the id" in shared
    by_user = fairbeam.json("token", "revoke", "notebook", "--user", "bob")
    assert by_user["username"] == "bob"
    bob = {"Authorization": f"Bearer {first['token']}"}
    assert http.get("/api/me", headers=bob).status_code == 401
    by_id = fairbeam.json("token", "revoke", str(by_user["id"]))  # again: no change
    assert by_id["revoked"] is True

    records = _actions(session, "token.revoke")
    assert [(r.actor, r.detail["username"], r.detail["name"]) for r in records] == [
        ("fairbeam", "bliss-id23", "software token"),
        ("fairbeam", "alice", "participant token"),
        ("fairbeam", "bob", "notebook"),
    ]
    _one_line_error(fairbeam("token", "revoke", "999999"), "no token '999999'")
    _one_line_error(fairbeam("token", "revoke", "nothing", "--user", "nobody"), "'nobody'")
    gone = fairbeam("token", "revoke", "fb_" + "x" * 40)
    assert gone.returncode == 1 and "x" * 20 not in gone.stderr  # a secret is never echoed
