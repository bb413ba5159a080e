"""Fixtures: a fresh catalogue per test on SQLite or PostgreSQL, a real server on loopback.

`FAIRBEAM_TEST_DATABASE` picks the engine (`sqlite`, the default, or `postgresql`);
`FAIRBEAM_TEST_POSTGRES_URL` names the server's maintenance database. When PostgreSQL
is asked for and cannot be reached the tests fail: they are never skipped.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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
    _SPARES.close(name)
    _DROPS.wait()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copy_database(template: str, folder: Path) -> tuple[str, str | None]:
    """A catalogue copied from ``template`` (a SQLite file or a PostgreSQL database name):
    its URL, and its PostgreSQL name for `drop_database` (None for a file in ``folder``)."""
    if ENGINE == "sqlite":
        path = folder / f"fairbeam_{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}", None
    name = f"fb_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        # A test's commits need not wait for the disk: no test crashes the server itself.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def template_of(url: str, name: str | None) -> str:
    """The template that `copy_database` copies to copy the catalogue at ``url`` again."""
    return url.removeprefix("sqlite:///") if name is None else name


class _Drops:
    """PostgreSQL's DROP DATABASE takes a second or more on a busy machine: catalogues are
    dropped in a thread of their own while the next test runs, and `wait` (at the end of
    the run) waits for the last ones and reports any that failed."""

    def __init__(self) -> None:
        self.names: queue.Queue[str] = queue.Queue()
        self.failures: list[str] = []
        self.thread: threading.Thread | None = None

    def put(self, name: str) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        self.names.put(name)

    def _run(self) -> None:
        admin = _admin()
        while True:
            name = self.names.get()
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # reported by wait()
                self.failures.append(f"{name}: {exc}")
            finally:
                self.names.task_done()

    def wait(self) -> None:
        self.names.join()
        failures, self.failures[:] = list(self.failures), []
        assert not failures, f"catalogues left behind: {failures}"


_DROPS = _Drops()


class _Spares:
    """PostgreSQL's CREATE DATABASE takes half a second or more: the catalogues that tests
    take from the session's template are copied ahead, ``AHEAD`` at a time, in a thread
    of their own while the tests before them run. `close` (at the end of the run) stops
    the copying and drops the copies no test took."""

    AHEAD = 2

    def __init__(self) -> None:
        self.ready: dict[str, queue.Queue[tuple[str, str | None] | BaseException]] = {}
        self.stopping: set[str] = set()
        self.threads: dict[str, threading.Thread] = {}

    def take(self, template: str, folder: Path) -> tuple[str, str | None]:
        """A copy of ``template``, as `copy_database` makes one."""
        if ENGINE == "sqlite":
            return copy_database(template, folder)
        if template not in self.ready:
            self.ready[template] = queue.Queue(self.AHEAD)
            thread = threading.Thread(target=self._run, args=(template,), daemon=True)
            self.threads[template] = thread
            thread.start()
        made = self.ready[template].get()
        if isinstance(made, BaseException):
            raise made
        return made

    def _run(self, template: str) -> None:
        ready = self.ready[template]
        while template not in self.stopping:
            try:
                made: tuple[str, str | None] | BaseException = copy_database(template, Path())
            except Exception as exc:  # raised by take()
                made = exc
            while template not in self.stopping:
                try:
                    ready.put(made, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                if not isinstance(made, BaseException):
                    drop_database(made[1])

    def close(self, template: str) -> None:
        self.stopping.add(template)
        thread = self.threads.pop(template, None)
        if thread is not None:
            thread.join()
        left = self.ready.pop(template, None)
        while left is not None and not left.empty():
            made = left.get()
            if not isinstance(made, BaseException):
                drop_database(made[1])


_SPARES = _Spares()


def drop_database(name: str | None) -> None:
    """Drop a PostgreSQL catalogue made by `copy_database`, in the background (nothing to
    do for SQLite: the file goes with its tmp_path)."""
    if name is not None:
        _DROPS.put(name)


def folder_settings(folder: Path, database_url: str) -> Settings:
    """Settings pointing every folder into ``folder``."""
    var = folder / "var"
    return load_settings(
        var=var,
        database_url=database_url,
        storage=var / "storage",
        archive=var / "archive",
        data_roots=[folder / "data"],
    )


@dataclass
class Snapshot:
    """Folders copied aside once, to be put back at the same paths (where a catalogue
    copied beside them expects its files) before each test that uses them."""

    folder: Path
    pristine: Path
    names: tuple[str, ...]

    @classmethod
    def take(cls, folder: Path, pristine: Path, *names: str) -> Snapshot:
        """Copy ``names`` (those that exist) of ``folder`` into ``pristine``."""
        for name in names:
            if (folder / name).exists():
                shutil.copytree(folder / name, pristine / name, symlinks=True)
        return cls(folder, pristine, names)

    def restore(self) -> None:
        """The folders exactly as they were when the snapshot was taken."""
        for name in self.names:
            shutil.rmtree(self.folder / name, ignore_errors=True)
            if (self.pristine / name).exists():
                shutil.copytree(self.pristine / name, self.folder / name, symlinks=True)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh catalogue of this test's own: no rows are shared."""
    url, name = _SPARES.take(template_database, tmp_path)
    yield url
    drop_database(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing every folder into this test's tmp_path."""
    return folder_settings(tmp_path, database_url)


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
