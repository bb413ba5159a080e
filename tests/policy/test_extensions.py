"""Embargo extensions over HTTP: the principal investigator asks, a manager decides."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import Investigation, Participant, ParticipantRole
from fairbeam.db.base import utcnow
from tests.world import World

ASK = "/api/investigations/MX-1001/embargo-extensions"


def _ask(
    http: httpx.Client, world: World, role: str = "participant", **body: str
) -> httpx.Response:
    payload = {"release_date": "2099-06-30T00:00:00Z", "reason": "the thesis is not written yet"}
    return http.post(ASK, json={**payload, **body}, headers=world.headers(role))


def test_pi_asks_and_manager_approves(http: httpx.Client, world: World, session: Session) -> None:
    before = http.get("/api/investigations/MX-1001").json()
    assert before["released"] is None and before["doi_state"] is None
    asked = _ask(http, world)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["status"] == "pending"
    assert request["requested_by"] == "alice"
    assert request["code"] == "MX-1001"
    assert request["previous_release_date"] == before["release_date"]
    # Nothing changes until a manager decides.
    assert http.get("/api/investigations/MX-1001").json()["release_date"] == before["release_date"]

    decided = http.post(
        f"/api/embargo-extensions/{request['id']}/decision",
        json={"approve": True, "note": "granted for one year"},
        headers=world.headers("manager"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert decided.json()["decided_by"] == "maria"
    after = http.get("/api/investigations/MX-1001").json()
    assert after["release_date"].startswith("2099-06-30")
    assert after["public"] is False

    again = http.post(
        f"/api/embargo-extensions/{request['id']}/decision",
        json={"approve": False},
        headers=world.headers("manager"),
    )
    assert again.status_code == 409
    assert "already approved" in again.json()["detail"]

    audit = session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "investigation", AuditRecord.action.like("embargo%"))
        .order_by(AuditRecord.id)
    ).all()
    assert [(a.action, a.actor) for a in audit] == [
        ("embargo_extension.request", "alice"),
        ("embargo_extension.approve", "maria"),
    ]
    assert audit[0].detail["reason"] == "the thesis is not written yet"
    assert audit[1].detail["release_date"].startswith("2099-06-30")
    assert audit[1].detail["previous_release_date"] == audit[0].detail["previous_release_date"]


def test_refusal_keeps_the_date_and_allows_a_new_request(
    http: httpx.Client, world: World, session: Session
) -> None:
    before = http.get("/api/investigations/MX-1001").json()["release_date"]
    first = _ask(http, world).json()
    assert _ask(http, world).status_code == 409  # one pending request at a time
    refused = http.post(
        f"/api/embargo-extensions/{first['id']}/decision",
        json={"approve": False, "note": "no reason given to the panel"},
        headers=world.headers("manager"),
    )
    assert refused.json()["status"] == "refused"
    assert refused.json()["note"] == "no reason given to the panel"
    assert http.get("/api/investigations/MX-1001").json()["release_date"] == before
    assert _ask(http, world).status_code == 201
    actions = session.scalars(
        select(AuditRecord.action).where(AuditRecord.action.like("embargo%"))
    ).all()
    assert sorted(actions) == [
        "embargo_extension.refuse",
        "embargo_extension.request",
        "embargo_extension.request",
    ]


def test_bad_requests_are_refused_with_a_reason(
    http: httpx.Client, world: World, session: Session
) -> None:
    current = http.get("/api/investigations/MX-1001").json()["release_date"][:10]
    earlier = _ask(http, world, release_date=current)
    assert earlier.status_code == 422
    assert "later than the current release date" in earlier.json()["detail"]
    blank = _ask(http, world, reason="   ")
    assert blank.status_code == 422
    assert "reason" in blank.json()["detail"]
    assert _ask(http, world, release_date="not a date").status_code == 422

    # Open data cannot be closed again (MX-0900 was released ten days ago).
    released = http.post(
        "/api/investigations/MX-0900/embargo-extensions",
        json={"release_date": "2099-01-01", "reason": "please"},
        headers=world.headers("manager"),
    )
    assert released.status_code == 409
    assert "was released on" in released.json()["detail"]

    # A co-investigator sees the data but may not ask: only the PI (or a manager) may.
    bob = session.scalar(select(User).where(User.username == "bob"))
    assert bob is not None
    session.add(
        Participant(
            investigation_id=world.closed_investigation,
            user_id=bob.id,
            role=ParticipantRole.co_investigator,
        )
    )
    session.commit()
    refused = _ask(http, world, role="other_user")
    assert refused.status_code == 403
    assert "principal investigator" in refused.json()["detail"]
    assert _ask(http, world, role="other_staff").status_code == 404
    assert (
        session.scalars(select(AuditRecord).where(AuditRecord.action.like("embargo%"))).all() == []
    )


def test_approval_after_release_is_refused(
    http: httpx.Client, world: World, session: Session
) -> None:
    request = _ask(http, world).json()
    investigation = session.get(Investigation, world.closed_investigation)
    assert investigation is not None
    investigation.released = utcnow() - timedelta(days=1)
    session.commit()
    late = http.post(
        f"/api/embargo-extensions/{request['id']}/decision",
        json={"approve": True},
        headers=world.headers("manager"),
    )
    assert late.status_code == 409
    assert "refuse the request instead" in late.json()["detail"]


def test_list_shows_each_caller_their_requests(http: httpx.Client, world: World) -> None:
    mine = _ask(http, world).json()
    foreign = http.post(
        "/api/investigations/HC-2000/embargo-extensions",
        json={"release_date": "2099-01-01", "reason": "industrial partner asked"},
        headers=world.headers("manager"),
    ).json()

    def ids(role: str, **params: str) -> list[int]:
        page = http.get("/api/embargo-extensions", params=params, headers=world.headers(role))
        assert page.status_code == 200, page.text
        return [item["id"] for item in page.json()["items"]]

    assert ids("manager") == [foreign["id"], mine["id"]]  # newest first
    assert ids("participant") == [mine["id"]]
    assert ids("other_user") == []
    assert ids("staff") == []
    assert ids("manager", investigation="HC-2000") == [foreign["id"]]
    assert ids("manager", status="approved") == []
    assert ids("manager", status="pending", limit="1") == [foreign["id"]]
    page = http.get(
        "/api/embargo-extensions", params={"limit": 1}, headers=world.headers("manager")
    ).json()
    rest = http.get(
        "/api/embargo-extensions",
        params={"limit": 1, "cursor": page["next"]},
        headers=world.headers("manager"),
    ).json()
    assert [i["id"] for i in rest["items"]] == [mine["id"]] and rest["next"] is None
    bad = http.get(
        "/api/embargo-extensions", params={"status": "maybe"}, headers=world.headers("manager")
    )
    assert bad.status_code == 422 and "pending" in bad.json()["detail"]
    one = http.get(f"/api/embargo-extensions/{mine['id']}", headers=world.headers("participant"))
    assert one.json()["reason"] == "the thesis is not written yet"
    hidden = http.get(
        f"/api/embargo-extensions/{foreign['id']}", headers=world.headers("participant")
    )
    assert hidden.status_code == 404
