"""Serves the built web portal (`frontend/dist`) at `/`, beside the API.

Any GET outside `/api` that is not a file of the build answers `index.html`, so that the
portal's own router shows the page of a bookmarked URL such as `/datasets/42`. The
fallback is the router's default handler rather than a route, so the API's own answers
(404 for an unknown path, 405 for a wrong method) stay exactly as they are.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("fairbeam")

# Vite names built assets by their content, so they never change under a URL.
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fairbeam</title>
<meta http-equiv="refresh" content="8; url=/api/docs"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>fairbeam</h1>
<p>The web portal is not built: no <code>index.html</code> in <code>{where}</code>.
Run <code>make install</code> (or <code>npm ci &amp;&amp; npm run build</code> in
<code>frontend/</code>), or point <code>FAIRBEAM_PORTAL_DIR</code> at a build.</p>
<p>The API works meanwhile: its documentation is at <a href="/api/docs">/api/docs</a>,
where this page leads in a few seconds.</p>
</body></html>
"""


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def portal_file(root: Path, url_path: str) -> Path | None:
    """The file of the build a URL path names, if it is one (never outside ``root``)."""
    relative = url_path.lstrip("/")
    if not relative:
        return None
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        return candidate
    return None


class PortalFallback:
    """The router's default handler: build files, else `index.html`; `/api` keeps its 404."""

    def __init__(self, root: Path, not_found: ASGIApp) -> None:
        self.root = root.resolve()
        self.index = self.root / "index.html"
        self.not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or _is_api(path):
            await self.not_found(scope, receive, send)
            return
        found = portal_file(self.root, path) or self.index
        cache = IMMUTABLE if found.parent.name == "assets" else "no-cache"
        await FileResponse(found, headers={"Cache-Control": cache})(scope, receive, send)


def mount_portal(app: FastAPI, portal_dir: Path) -> None:
    """Serve the portal built in ``portal_dir`` at `/`; without a build, say how to make one."""
    index = portal_dir / "index.html"
    built = index.is_file()

    @app.get("/", include_in_schema=False, response_model=None)
    def home() -> FileResponse | HTMLResponse:
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NOT_BUILT.format(where=portal_dir))

    if built:
        app.router.default = PortalFallback(portal_dir, app.router.default)
    else:
        log.warning(
            "the web portal is not built (no index.html in %s): `/` leads to the API docs; "
            "run `make install` or set FAIRBEAM_PORTAL_DIR",
            portal_dir,
        )
