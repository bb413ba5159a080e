"""The user list of the Manager page: managers only, roles and beamlines, no secrets."""

from __future__ import annotations

from typing import Any

import httpx

from tests.world import World

# tests/world.py's accounts: username -> (role, beamlines).
ACCOUNTS = {
    "alice": ("user", []),
    "bliss-id23": ("software", ["ID23"]),
    "bob": ("user", []),
    "carol": ("user", []),
    "maria": ("manager", []),
    "oscar": ("staff", ["ID11"]),
    "stella": ("staff", ["ID23"]),
}


def _pages(http: httpx.Client, world: World, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = http.get("/api/users", params=query, headers=world.headers("manager"))
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next"]
        if cursor is None:
            return items


def test_managers_page_through_every_account(http: httpx.Client, world: World) -> None:
    users = _pages(http, world, limit="2")
    assert [u["username"] for u in users] == sorted(ACCOUNTS)
    assert {u["username"]: (u["role"], u["instruments"]) for u in users} == ACCOUNTS
    assert all(u["active"] and u["created"] for u in users)


def test_no_password_hash_is_ever_sent(http: httpx.Client, world: World) -> None:
    response = http.get("/api/users", params={"limit": "1000"}, headers=world.headers("manager"))
    assert "argon2" not in response.text
    assert all("password" not in key for user in response.json()["items"] for key in user)


def test_filters_by_role_and_text(http: httpx.Client, world: World) -> None:
    assert [u["username"] for u in _pages(http, world, role="staff")] == ["oscar", "stella"]
    assert [u["username"] for u in _pages(http, world, q="STEL")] == ["stella"]
    assert _pages(http, world, q="%") == []
    refused = http.get("/api/users", params={"role": "admin"}, headers=world.headers("manager"))
    assert refused.status_code == 422
    assert "admin" in refused.json()["detail"]


def test_only_managers_list_users(http: httpx.Client, world: World) -> None:
    for role in ("other_user", "participant", "staff", "software"):
        response = http.get("/api/users", headers=world.headers(role))
        assert response.status_code == 403, role
        assert response.json() == {"detail": "only a manager may do this"}
    assert http.get("/api/users").status_code == 401
