"""Access rules changed after creation: accounts, tokens and participants, each change
taking effect at once and found in the audit trail with its actor, object and detail."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.audit.models import AuditRecord
from tests.world import World


def _audit(http: httpx.Client, world: World, **params: str) -> list[dict[str, Any]]:
    """Records of the audit trail, oldest first, as a manager reads them over HTTP."""
    response = http.get("/api/audit", params=params, headers=world.headers("manager"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[::-1]


def _user_id(session: Session, username: str) -> str:
    return str(session.scalar(select(User.id).where(User.username == username)))


def _records(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def _patch(http: httpx.Client, world: World, username: str, **body: Any) -> httpx.Response:
    return http.patch(f"/api/users/{username}", json=body, headers=world.headers("manager"))


def test_staff_moved_to_another_beamline_sees_its_data_instead(
    http: httpx.Client, world: World, session: Session
) -> None:
    stella = world.headers("staff")
    assert http.get(f"/api/datasets/{world.closed_dataset}", headers=stella).status_code == 200
    assert http.get(f"/api/datasets/{world.foreign_dataset}", headers=stella).status_code == 404

    moved = _patch(http, world, "stella", instruments=["ID11"])
    assert moved.status_code == 200, moved.text
    assert (moved.json()["role"], moved.json()["instruments"]) == ("staff", ["ID11"])

    # The same token, the next request: ID23's closed data is gone, ID11's is there.
    assert http.get(f"/api/datasets/{world.closed_dataset}", headers=stella).status_code == 404
    assert http.get(f"/api/datasets/{world.foreign_dataset}", headers=stella).status_code == 200
    mine = http.get("/api/investigations", params={"scope": "beamline"}, headers=stella)
    assert {i["code"] for i in mine.json()["items"]} == {"HC-2000"}

    records = _audit(http, world, object_type="user", object_id=_user_id(session, "stella"))
    changes = [r for r in records if r["action"].startswith("instrument_staff.")]
    assert [(r["action"], r["detail"]["instrument"]) for r in changes] == [
        ("instrument_staff.add", "ID11"),
        ("instrument_staff.remove", "ID23"),
    ]
    for record in changes:
        assert (record["actor"], record["actor_id"]) == (
            "maria",
            world.principals["manager"].user_id,
        )
        assert record["detail"]["username"] == "stella"
        assert (record["detail"]["before"], record["detail"]["after"]) == (["ID23"], ["ID11"])


def test_a_new_role_and_a_disabled_login(
    http: httpx.Client, world: World, session: Session
) -> None:
    # Staff made a plain user keeps no beamline: oscar no longer sees ID11's closed data.
    demoted = _patch(http, world, "oscar", role="user")
    assert (demoted.json()["role"], demoted.json()["instruments"]) == ("user", [])
    oscar = world.headers("other_staff")
    assert http.get(f"/api/datasets/{world.foreign_dataset}", headers=oscar).status_code == 404
    assert http.get("/api/stats", headers=oscar).status_code == 403
    records = _audit(http, world, object_id=_user_id(session, "oscar"), actor="maria")
    assert [(r["action"], r["detail"]["before"], r["detail"]["after"]) for r in records] == [
        ("user.update", {"role": "staff"}, {"role": "user"}),
        ("instrument_staff.remove", ["ID11"], []),
    ]

    # A disabled account's tokens answer 401 at once, and it may not log in.
    bob = world.headers("other_user")
    assert _patch(http, world, "bob", active=False).json()["active"] is False
    assert http.get("/api/me", headers=bob).status_code == 401
    login = http.post("/api/auth/login", json={"username": "bob", "password": "bob-password"})
    assert login.status_code == 401
    assert _patch(http, world, "bob", active=True).status_code == 200
    assert http.get("/api/me", headers=bob).json()["username"] == "bob"
    updates = _audit(http, world, action="user.update", object_id=_user_id(session, "bob"))
    assert [(r["detail"]["before"], r["detail"]["after"]) for r in updates] == [
        ({"active": True}, {"active": False}),
        ({"active": False}, {"active": True}),
    ]

    # A user made staff of a beamline sees its closed data.
    assert _patch(http, world, "carol", role="staff", instruments=["ID23"]).status_code == 200
    carol = http.post("/api/auth/login", json={"username": "carol", "password": "carol-password"})
    token = {"Authorization": f"Bearer {carol.json()['token']}"}
    assert http.get(f"/api/datasets/{world.closed_dataset}", headers=token).status_code == 200


def test_bad_changes_are_refused_and_leave_no_record(
    http: httpx.Client, world: World, session: Session
) -> None:
    before = _records(session)
    unknown = _patch(http, world, "nobody", role="staff")
    assert unknown.status_code == 404 and "'nobody'" in unknown.json()["detail"]
    role = _patch(http, world, "bob", role="wizard")
    assert role.status_code == 422
    assert "'user', 'staff', 'manager' or 'software'" in role.json()["detail"]
    beamline = _patch(http, world, "stella", instruments=["ID23", "ID99"])
    assert beamline.status_code == 422 and "'ID99'" in beamline.json()["detail"]
    assert "ID11, ID23" in beamline.json()["detail"]  # the known ones
    plain = _patch(http, world, "bob", instruments=["ID23"])
    assert plain.status_code == 422 and "staff or software" in plain.json()["detail"]
    extra = _patch(http, world, "bob", password="a-new-password")
    assert extra.status_code == 422 and "password" in extra.json()["detail"]
    last = _patch(http, world, "maria", role="user")
    assert last.status_code == 409 and "last active manager" in last.json()["detail"]
    assert _patch(http, world, "maria", active=False).status_code == 409
    assert _records(session) == before
    # Nothing changed: no record either.
    assert _patch(http, world, "stella", role="staff", instruments=["ID23"]).status_code == 200
    assert _records(session) == before
    stella = http.get("/api/users", params={"q": "stella"}, headers=world.headers("manager"))
    assert stella.json()["items"][0]["instruments"] == ["ID23"]


def test_a_revoked_token_answers_401_at_once(
    http: httpx.Client, world: World, session: Session
) -> None:
    alice = world.headers("participant")
    listed = http.get("/api/tokens", headers=alice)
    assert listed.status_code == 200
    (token,) = listed.json()["items"]
    assert token["name"] == "participant token" and token["revoked"] is False
    assert world.tokens["participant"].startswith(token["prefix"])  # type: ignore[union-attr]
    assert world.tokens["participant"] not in listed.text
    assert set(token) == {
        "id",
        "username",
        "name",
        "kind",
        "prefix",
        "created",
        "expires",
        "last_used",
        "revoked",
    }
    # A download ticket issued before the revocation dies with its token.
    ticket = http.post(
        "/api/downloads/ticket",
        json={"path": f"/api/files/{world.closed_file}/content"},
        headers=alice,
    )
    assert ticket.status_code == 200
    viewer = f"/api/files/{world.closed_file}/h5/meta/"
    assert http.get(viewer, headers=alice).status_code == 404  # seen, but not on disk

    revoked = http.delete(f"/api/tokens/{token['id']}", headers=alice)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    for url in ("/api/me", f"/api/datasets/{world.closed_dataset}", viewer, "/api/tokens"):
        response = http.get(url, headers=alice)
        assert response.status_code == 401, url
        assert "revoked" in response.json()["detail"]
    assert http.get(ticket.json()["url"]).status_code == 401

    (record,) = _audit(http, world, action="token.revoke")
    assert (record["actor"], record["object_type"], record["object_id"]) == (
        "alice",
        "user",
        _user_id(session, "alice"),
    )
    assert record["detail"] == {
        "username": "alice",
        "token": token["id"],
        "name": "participant token",
        "kind": "api",
        "prefix": token["prefix"],
        "before": {"revoked": False},
        "after": {"revoked": True},
    }


def test_managers_revoke_anyones_token_and_others_none(
    http: httpx.Client, world: World, session: Session
) -> None:
    manager = world.headers("manager")
    bobs = http.get("/api/tokens", params={"user": "bob"}, headers=manager).json()["items"]
    (bob_token,) = bobs
    carols = http.get("/api/tokens", params={"user": "carol"}, headers=manager).json()["items"]
    assert carols == []
    # Another account's token is not even there for a non-manager.
    for role in ("participant", "staff", "software"):
        response = http.delete(f"/api/tokens/{bob_token['id']}", headers=world.headers(role))
        assert response.status_code == 404, role
    assert http.get("/api/me", headers=world.headers("other_user")).status_code == 200
    assert http.delete(f"/api/tokens/{bob_token['id']}", headers=manager).status_code == 200
    assert http.get("/api/me", headers=world.headers("other_user")).status_code == 401
    # Again: the same answer, no second record.
    again = http.delete(f"/api/tokens/{bob_token['id']}", headers=manager)
    assert again.status_code == 200 and again.json()["revoked"] is True
    records = _audit(http, world, action="token.revoke")
    assert [(r["actor"], r["detail"]["username"]) for r in records] == [("maria", "bob")]
    # A user's own list filters by kind; sessions are listed and revocable too.
    login = http.post("/api/auth/login", json={"username": "alice", "password": "alice-password"})
    session_token = {"Authorization": f"Bearer {login.json()['token']}"}
    sessions = http.get("/api/tokens", params={"kind": "session"}, headers=session_token).json()
    (own,) = sessions["items"]
    assert own["kind"] == "session" and own["expires"] is not None
    assert http.delete(f"/api/tokens/{own['id']}", headers=session_token).status_code == 200
    assert http.get("/api/me", headers=session_token).status_code == 401
    refused = http.get("/api/tokens", params={"user": "bob"}, headers=world.headers("participant"))
    assert refused.status_code == 403
    unknown = http.get("/api/tokens", params={"user": "nobody"}, headers=manager)
    assert unknown.status_code == 404 and "'nobody'" in unknown.json()["detail"]


def test_participants_added_and_removed(http: httpx.Client, world: World, session: Session) -> None:
    bob = world.headers("other_user")
    dataset = f"/api/datasets/{world.closed_dataset}"
    assert http.get(dataset, headers=bob).status_code == 404
    added = http.post(
        "/api/investigations/MX-1001/participants",
        json={"username": "bob", "role": "collaborator"},
        headers=world.headers("manager"),
    )
    assert added.status_code == 201, added.text
    assert added.json() == {
        "username": "bob",
        "full_name": "bob",
        "orcid": None,
        "role": "collaborator",
    }
    assert http.get(dataset, headers=bob).status_code == 200
    codes = http.get("/api/investigations", params={"scope": "mine"}, headers=bob).json()
    assert [i["code"] for i in codes["items"]] == ["MX-1001"]

    # The principal investigator takes the collaborator out again.
    removed = http.delete(
        "/api/investigations/MX-1001/participants/bob", headers=world.headers("participant")
    )
    assert removed.status_code == 204
    assert http.get(dataset, headers=bob).status_code == 404
    people = http.get(f"/api/investigations/{world.closed_investigation}").json()["participants"]
    assert [p["username"] for p in people] == ["alice"]

    records = _audit(
        http, world, object_type="investigation", object_id=str(world.closed_investigation)
    )
    assert [(r["action"], r["actor"], r["detail"]["username"]) for r in records] == [
        ("participant.add", "maria", "bob"),
        ("participant.remove", "alice", "bob"),
    ]
    pi = {"alice": "principal_investigator"}
    both = {"alice": "principal_investigator", "bob": "collaborator"}
    assert [(r["detail"]["before"], r["detail"]["after"]) for r in records] == [
        (pi, both),
        (both, pi),
    ]
    assert records[1]["actor_id"] == world.principals["participant"].user_id
    assert records[0]["detail"]["code"] == "MX-1001"


def test_bad_participant_changes(http: httpx.Client, world: World, session: Session) -> None:
    before = _records(session)
    alice = world.headers("participant")
    manager = world.headers("manager")
    url = "/api/investigations/MX-1001/participants"
    # The principal investigator adds collaborators, not investigators.
    co = http.post(url, json={"username": "bob", "role": "co_investigator"}, headers=alice)
    assert co.status_code == 403 and "collaborators" in co.json()["detail"]
    unknown = http.post(url, json={"username": "nobody", "role": "collaborator"}, headers=manager)
    assert unknown.status_code == 422 and "'nobody'" in unknown.json()["detail"]
    role = http.post(url, json={"username": "bob", "role": "boss"}, headers=manager)
    assert role.status_code == 422 and "'collaborator'" in role.json()["detail"]
    twice = http.post(url, json={"username": "alice", "role": "collaborator"}, headers=manager)
    assert twice.status_code == 409 and "principal_investigator" in twice.json()["detail"]
    absent = http.delete(f"{url}/bob", headers=manager)
    assert absent.status_code == 404 and "'bob'" in absent.json()["detail"]
    only = http.delete(f"{url}/alice", headers=manager)
    assert only.status_code == 409 and "add another one first" in only.json()["detail"]
    nul = http.post(url, json={"username": "bo\x00b", "role": "collaborator"}, headers=manager)
    assert nul.status_code == 422
    assert _records(session) == before

    # Another principal investigator first, then alice may go.
    second = {"username": "carol", "role": "principal_investigator"}
    assert http.post(url, json=second, headers=manager).status_code == 201
    assert http.delete(f"{url}/alice", headers=manager).status_code == 204
    assert http.get(f"/api/datasets/{world.closed_dataset}", headers=alice).status_code == 404
