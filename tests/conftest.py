"""Fixtures: a fresh catalogue per test on SQLite or PostgreSQL, a real server on loopback.

`FAIRBEAM_TEST_DATABASE` picks the engine (`sqlite`, the default, or `postgresql`);
`FAIRBEAM_TEST_POSTGRES_URL` names the server's maintenance database. When PostgreSQL
is asked for and cannot be reached the tests fail: they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from fairbeam.api.app import create_app
from fairbeam.config import Settings, load_settings
from fairbeam.db import make_engine, make_sessionmaker, upgrade_database

ENGINE = os.environ.get("FAIRBEAM_TEST_DATABASE", "sqlite")
POSTGRES_ADMIN = os.environ.get(
    "FAIRBEAM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
assert ENGINE in ("sqlite", "postgresql"), f"FAIRBEAM_TEST_DATABASE={ENGINE!r}"


def _admin() -> Engine:
    return create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty catalogue that each test copies (fast: no migration per test)."""
    if ENGINE == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        engine.dispose()
        yield str(path)
        return
    name = f"fb_template_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a configured but unreachable PostgreSQL fails the run
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN} is not reachable: {exc}")
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh catalogue of this test's own: no rows are shared."""
    if ENGINE == "sqlite":
        path = tmp_path / "fairbeam.db"
        shutil.copyfile(template_database, path)
        yield f"sqlite:///{path}"
        return
    name = f"fb_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing every folder into this test's tmp_path."""
    var = tmp_path / "var"
    return load_settings(
        var=var,
        database_url=database_url,
        storage=var / "storage",
        archive=var / "archive",
        data_roots=[tmp_path / "data"],
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The engine of this test's catalogue."""
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on this test's catalogue."""
    with make_sessionmaker(engine)() as session:
        yield session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """fairbeam served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.app = create_app(settings, engine)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[LiveServer]:
    """A running server on loopback for this test's catalogue."""
    live = LiveServer(settings, engine)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client talking to the live server over loopback."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def world(session: Session) -> World:
    """The small facility of tests/world.py, with a token for every role."""
    from tests.world import build_world

    return build_world(session)


from tests.world import World  # noqa: E402
