"""A real `fairbeam serve` with the demo facility, and Debian's Chromium driven by
Playwright: the demo built once per test process, one server per module on a copy of it,
one browser page per test, a screenshot after each.

Screenshots go to `var/test-screenshots/<engine>/` (or `FAIRBEAM_TEST_SCREENSHOTS`).
A missing Chromium or an unbuilt portal fails the tests: they are never skipped.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import ENGINE, Snapshot, _free_port, copy_database, drop_database, template_of

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PORTAL_INDEX = REPO / "frontend" / "dist" / "index.html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = (
    Path(os.environ.get("FAIRBEAM_TEST_SCREENSHOTS", REPO / "var" / "test-screenshots")) / ENGINE
)
FAIRBEAM = Path(sys.executable).with_name("fairbeam")


@dataclass
class Portal:
    """A running server with the demo facility: its URL and the demo's accounts."""

    url: str
    accounts: list[dict[str, Any]]
    tokens: dict[str, str] = field(default_factory=dict)
    # The server's environment: its catalogue and folders, for commands run beside it.
    env: dict[str, str] = field(default_factory=dict)

    def account(self, username: str) -> dict[str, Any]:
        """The demo account of ``username``: full name, role, beamline, password."""
        for account in self.accounts:
            if account["username"] == username:
                return account
        raise KeyError(username)

    def password(self, username: str) -> str:
        """The demo password of ``username``."""
        return str(self.account(username)["password"])

    def get(self, route: str, username: str | None = None, **params: Any) -> httpx.Response:
        """GET an API route as ``username`` (anonymous without one)."""
        headers = {}
        if username:
            if username not in self.tokens:
                login = httpx.post(
                    f"{self.url}/api/auth/login",
                    json={"username": username, "password": self.password(username)},
                )
                login.raise_for_status()
                self.tokens[username] = login.json()["token"]
            headers["Authorization"] = f"Bearer {self.tokens[username]}"
        return httpx.get(f"{self.url}{route}", params=params, headers=headers, timeout=30)

    def api(self, route: str, username: str | None = None, **params: Any) -> Any:
        """The JSON body of a GET that must succeed."""
        response = self.get(route, username, **params)
        response.raise_for_status()
        return response.json()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"fairbeam serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"fairbeam serve did not answer within 60 s:\n{log.read_text()}")


def save_screenshot(page: Page, name: str) -> None:
    """A screenshot of the page as it is now, beside the one each test saves at its end."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def _environment(folder: Path, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FAIRBEAM_VAR": str(folder / "var"),
        "FAIRBEAM_DATABASE_URL": url,
        "FAIRBEAM_PORTAL_DIR": str(PORTAL_INDEX.parent),
        # No scheduled policy pass: tests run the pass themselves, on the demo they expect.
        "FAIRBEAM_POLICY_INTERVAL_HOURS": "0",
    }
    env.pop("FAIRBEAM_CONFIG", None)
    return env


@dataclass
class PortalDemo:
    """The demo facility as `fairbeam demo` built it: its catalogue and its folder."""

    template: str
    folders: Snapshot
    accounts: list[dict[str, Any]]


@pytest.fixture(scope="session")
def portal_demo(
    template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PortalDemo]:
    """`fairbeam demo --size small` once, into a catalogue that each module copies."""
    if not PORTAL_INDEX.exists():
        pytest.fail(f"the portal is not built ({PORTAL_INDEX} is missing): run `make install`")
    folder = tmp_path_factory.mktemp("portal")
    url, database = copy_database(template_database, folder)
    demo = subprocess.run(
        [str(FAIRBEAM), "demo", "--size", "small", "--json"],
        env=_environment(folder, url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    folders = Snapshot.take(folder, tmp_path_factory.mktemp("portal-pristine"), "var")
    template = template_of(url, database)
    yield PortalDemo(template, folders, json.loads(demo.stdout)["accounts"])
    drop_database(database)


@pytest.fixture(scope="module")
def portal(portal_demo: PortalDemo) -> Iterator[Portal]:
    """`fairbeam serve` on a free loopback port, on the module's own copy of the demo
    facility (its catalogue copied, its folder restored as `fairbeam demo` left it)."""
    folder = portal_demo.folders.folder
    portal_demo.folders.restore()
    url, database = copy_database(portal_demo.template, folder)
    env = _environment(folder, url)
    port = _free_port()
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(FAIRBEAM), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, base, log)
        yield Portal(url=base, accounts=copy.deepcopy(portal_demo.accounts), env=env)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        drop_database(database)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver (it drives Debian's Chromium, never a browser of its own)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium from /usr/bin/chromium."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser page (no login); its screenshot is saved after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    save_screenshot(page, request.node.name)
    context.close()
    assert not errors, f"the page raised: {errors}"
