"""The browser's side of bench/viewer.py: headless Chromium (Debian's, driven by
Playwright) fetches each URL as h5web does, `fetch()` then `arrayBuffer()`, timed with
performance.now() in a page of the server's own origin (so no CORS is involved).

Chromium sends `Accept-Encoding: gzip, deflate, br, zstd` and inflates a `deflate`
body natively while it arrives, as it does for h5web."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from portal import CHROMIUM, CHROMIUM_ARGS

# One request, timed inside the page; the sum of the 16-bit words checks a frame's bytes
# (computed after the clock stopped).
FETCH = """
async ({url, headers, words}) => {
  const start = performance.now();
  const response = await fetch(url, {headers, cache: "no-store"});
  const body = await response.arrayBuffer();
  const ms = performance.now() - start;
  if (!response.ok) {
    return {error: `${response.status} ${new TextDecoder().decode(body).slice(0, 300)}`};
  }
  let sum = 0;
  if (words) {
    const values = new Uint16Array(body);
    for (let i = 0; i < values.length; i++) sum += values[i];
  }
  return {ms, bytes: body.byteLength, sum};
}
"""


@dataclass
class Fetched:
    """One request as the page saw it."""

    ms: float
    bytes: int
    sum: int


class Tab:
    """A page at one server's origin, fetching URLs of that server."""

    def __init__(self, page: Page, headers: dict[str, str]) -> None:
        self.page = page
        self.headers = headers

    def fetch(self, url: str, *, words: bool = False) -> Fetched:
        """Fetch ``url`` (a path on this origin); ``words`` sums the body as uint16."""
        found: dict[str, Any] = self.page.evaluate(
            FETCH, {"url": url, "headers": self.headers, "words": words}
        )
        if "error" in found:
            raise SystemExit(f"browser: {url}: {found['error']}")
        return Fetched(float(found["ms"]), int(found["bytes"]), int(found["sum"]))


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium from /usr/bin/chromium."""
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: run `make browser-deps`")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# The page itself comes from Playwright with the headers of a cross-origin isolated page,
# so that performance.now() counts in 5 µs steps rather than 100 µs; the fetches it
# makes reach the server.
ISOLATED = {
    "Content-Type": "text/html",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


def open_tab(browser: Browser, origin: str, headers: dict[str, str]) -> Tab:
    """A page of ``origin`` from which same-origin requests go with ``headers``."""
    page = browser.new_context().new_page()
    home = f"{origin}/bench-viewer-page"
    page.route(home, lambda route: route.fulfill(status=200, headers=ISOLATED, body="<p>bench"))
    page.goto(home)
    # With a route in place Playwright intercepts every request of the page and lets it
    # go on from its own process, a detour no visitor's browser takes; the fetches timed
    # below go straight to the network.
    page.unroute(home)
    if not page.evaluate("crossOriginIsolated"):
        raise SystemExit(f"browser: the page of {origin} is not cross-origin isolated")
    return Tab(page, headers)
