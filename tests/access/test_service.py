"""Passwords hashed with argon2, tokens stored hashed, expiry, revocation, login limits."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken, User
from fairbeam.access.security import token_digest
from fairbeam.access.service import authenticate, create_token, create_user, login
from fairbeam.db.base import Base, utcnow
from fairbeam.errors import TooManyAttempts, Unauthenticated
from tests.world import World


def everything_stored(engine: Engine) -> str:
    """Every value of every row of every table, as one text."""
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in connection.execute(select(table))
        )


def test_password_is_stored_as_an_argon2id_hash(session: Session) -> None:
    user = create_user(session, "dora", password="correct horse battery")
    session.commit()
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    token, _ = login(
        session, "dora", "correct horse battery", max_failures=5, window_seconds=60, session_hours=1
    )
    assert authenticate(session, token).username == "dora"


def test_plain_tokens_are_stored_nowhere(http: httpx.Client, world: World, engine: Engine) -> None:
    logged_in = http.post(
        "/api/auth/login", json={"username": "alice", "password": "alice-password"}
    )
    assert logged_in.status_code == 200
    tokens = [t for t in world.tokens.values() if t] + [logged_in.json()["token"]]
    stored = everything_stored(engine)
    assert "alice-password" not in stored
    for token in tokens:
        assert token not in stored
        assert token_digest(token) in stored
    assert (
        http.get("/api/me", headers={"Authorization": f"Bearer {tokens[-1]}"}).json()["username"]
        == "alice"
    )


@pytest.mark.parametrize("change", ["expired", "revoked", "account disabled"])
def test_a_dead_token_answers_401(
    change: str, http: httpx.Client, world: World, session: Session
) -> None:
    headers = world.headers("participant")
    assert http.get("/api/me", headers=headers).status_code == 200
    digest = token_digest(world.tokens["participant"] or "")
    if change == "expired":
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == digest)
            .values(expires=utcnow() - timedelta(seconds=1))
        )
    elif change == "revoked":
        session.execute(update(ApiToken).where(ApiToken.token_hash == digest).values(revoked=True))
    else:
        session.execute(update(User).where(User.username == "alice").values(active=False))
    session.commit()
    for url in ("/api/me", f"/api/datasets/{world.closed_dataset}", "/api/datasets"):
        response = http.get(url, headers=headers)
        assert response.status_code == 401, url
        assert response.headers["www-authenticate"] == "Bearer"
    # Others are not affected.
    assert http.get("/api/me", headers=world.headers("staff")).status_code == 200


def test_a_token_expires_after_its_lifetime(session: Session) -> None:
    user = create_user(session, "eve")
    short = create_token(session, user, hours=1)
    lasting = create_token(session, user)
    assert authenticate(session, short).username == "eve"
    session.execute(
        text("UPDATE api_token SET expires = :t WHERE expires IS NOT NULL"),
        {"t": (utcnow() - timedelta(minutes=1)).replace(tzinfo=None)},
    )
    with pytest.raises(Unauthenticated, match="expired"):
        authenticate(session, short)
    assert authenticate(session, lasting).username == "eve"


def test_login_attempts_are_limited_per_username(session: Session) -> None:
    create_user(session, "frank", password="frank-password")
    create_user(session, "gina", password="gina-password")
    session.commit()
    limits = {"max_failures": 3, "window_seconds": 600, "session_hours": 1}
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            login(session, "frank", "wrong", **limits)
    with pytest.raises(TooManyAttempts) as refused:
        login(session, "frank", "frank-password", **limits)  # even the right password
    assert 0 < refused.value.retry_after <= 600
    login(session, "gina", "gina-password", **limits)  # another name is not limited
    # Once the window has passed, the name may log in again.
    session.execute(
        update(User)
        .where(User.username == "frank")
        .values(last_failed_login=utcnow() - timedelta(seconds=601))
    )
    session.commit()
    token, user = login(session, "frank", "frank-password", **limits)
    assert user.username == "frank" and authenticate(session, token).username == "frank"
