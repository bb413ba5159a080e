"""The landing page of a DOI, `/doi/{doi}`: server-rendered HTML, so that search engines
read it, with schema.org `Dataset` JSON-LD in its head (what it shows comes from
fairbeam.policy.landing)."""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from fairbeam.api.deps import Cursor, SessionDep, SettingsDep
from fairbeam.config import Settings
from fairbeam.db.base import as_utc
from fairbeam.errors import FairbeamError
from fairbeam.policy.landing import (
    PAGE_DATASETS,
    CreatorOut,
    Landing,
    json_ld,
    landing,
    search_description,
)

STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1d2430}
h1{font-size:1.6rem;margin-bottom:.3rem}
.doi a{font-family:ui-monospace,monospace}
.state{display:inline-block;padding:0 .5rem;border-radius:.3rem;background:#e8eef7;
font-size:.85rem}
.embargo{background:#fff4d6;border:1px solid #e7c766;padding:.6rem 1rem;border-radius:.4rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #dde3ec;padding:.25rem .5rem;text-align:left}
.cite{background:#f4f6fa;padding:.6rem 1rem;border-radius:.4rem}
button{font:inherit;padding:.3rem .8rem;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #3c6fd6;outline-offset:2px}
"""

COPY_SCRIPT = """
document.getElementById('copy-citation').addEventListener('click', function () {
  var text = document.getElementById('citation').textContent;
  var done = function (ok) {
    document.getElementById('copy-status').textContent = ok ? 'Citation copied.' :
      'Select the citation and copy it with Ctrl+C.';
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done(true); },
      function () { done(false); });
  } else {
    var area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    var ok = false; try { ok = document.execCommand('copy'); } catch (e) {}
    document.body.removeChild(area); done(ok);
  }
});
"""


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{n} bytes"  # pragma: no cover


def _script_json(data: dict[str, Any]) -> str:
    # JSON inside <script>: no markup character may end the element or change how the
    # parser reads it; JSON's \u escapes keep the text the same.
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _creator_html(c: CreatorOut) -> str:
    name = escape(c.name)
    if c.orcid:
        return (
            f'{name} <a href="{escape(c.orcid)}" rel="author" '
            f'title="ORCID iD of {name}">(ORCID)</a>'
        )
    return name


def render(landing_page: Landing, settings: Settings, limit: int) -> str:
    """The landing page's HTML."""
    info = landing_page.info
    e = escape
    facts: list[tuple[str, str]] = [
        ("DOI", f'<a href="{e(info.resolver)}">{e(info.resolver)}</a>'),
        ("Publisher", e(info.publisher)),
        ("Year", str(info.publication_year)),
    ]
    if info.instrument:
        facts.append(("Beamline", e(info.instrument)))
    if info.code:
        facts.append(("Proposal", e(info.code)))
    if info.collected:
        facts.append(("Collected", e(info.collected.replace("/", " to "))))
    if info.release_date:
        label = "Open since" if info.open else "Data opens on"
        facts.append((label, e(info.release_date.date().isoformat())))
    if info.techniques:
        facts.append(("Techniques", e(", ".join(info.techniques))))
    facts.append(
        (
            "Size",
            f"{info.dataset_count:,} datasets, {info.file_count:,} files, "
            f"{_size(info.volume_bytes)}",
        )
    )
    if info.formats:
        facts.append(("Formats", e(", ".join(info.formats))))
    if info.related:
        facts.append(
            (
                "Related",
                ", ".join(f'<a href="/doi/{e(d)}">{e(d)}</a>' for d in info.related),
            )
        )
    public = settings.public_url.rstrip("/")
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(info.title)} | {e(info.publisher)}</title>",
        f'<meta name="description" content="{e(search_description(info, settings)[:300])}">',
        f'<link rel="canonical" href="{e(info.url)}">',
        f'<meta name="citation_title" content="{e(info.title)}">',
        *[f'<meta name="citation_author" content="{e(c.name)}">' for c in info.creators],
        f'<meta name="citation_doi" content="{e(info.doi)}">',
        f'<meta name="citation_publisher" content="{e(info.publisher)}">',
        f'<meta name="citation_publication_date" content="{info.publication_year}">',
        f'<script type="application/ld+json">{_script_json(json_ld(info, settings))}</script>',
        f"<style>{STYLE}</style>",
        "</head><body>",
        f'<p><a href="{e(public)}/">{e(info.publisher)}</a> · '
        f"{'Investigation' if info.kind == 'investigation' else 'Data collection'}</p>",
        f"<h1>{e(info.title)}</h1>",
        f'<p class="authors">{"; ".join(_creator_html(c) for c in info.creators)}</p>',
        f'<p class="doi"><a href="{e(info.resolver)}">{e(info.resolver)}</a> '
        f'<span class="state">{e(info.state)}</span></p>',
    ]
    if not info.open:
        when = info.release_date.date().isoformat() if info.release_date else "a later date"
        parts.append(
            f'<p class="embargo" role="note">The data is under embargo until <strong>{e(when)}'
            "</strong>. Its description is public now; the datasets and their files open "
            "then.</p>"
        )
    if info.description:
        parts += ["<h2>Abstract</h2>", f"<p>{e(info.description)}</p>"]
    parts += ["<h2>About</h2>", "<dl>"]
    parts += [f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts]
    parts.append("</dl>")
    if info.open:
        parts.append("<h2>Download</h2>")
        login = (
            " Downloading needs a login with a registered identity."
            if settings.open_data_needs_login
            else ""
        )
        if info.investigation is not None:
            parts.append(
                f'<p><a href="{e(public)}/investigations/{info.investigation}">Download the '
                f"data from the portal</a> (whole investigation, or dataset by dataset).{login}</p>"
            )
        else:
            parts.append(
                "<p>Each dataset below links to its page in the portal, where its files "
                f"download.{login}</p>"
            )
        parts.append(f"<h2>Datasets ({info.dataset_count:,})</h2>")
        if landing_page.datasets:
            parts.append(
                "<table><thead><tr><th>Dataset</th><th>Technique</th><th>Start</th>"
                "<th>Files</th><th>Size</th></tr></thead><tbody>"
            )
            for d in landing_page.datasets:
                parts.append(
                    f'<tr><td><a href="{e(public)}/datasets/{d.id}">{e(d.name)}</a></td>'
                    f"<td>{e(d.technique)}</td><td>{e(as_utc(d.start).date().isoformat())}</td>"
                    f"<td>{d.file_count:,}</td><td>{_size(d.volume_bytes)}</td></tr>"
                )
            parts.append("</tbody></table>")
        if landing_page.next:
            href = f"/doi/{e(info.doi)}?cursor={quote(landing_page.next)}&amp;limit={limit}"
            parts.append(f'<p><a href="{href}" rel="next">Next datasets</a></p>')
        if info.investigation is not None:
            parts.append(
                f'<p><a href="{e(public)}/investigations/{info.investigation}">All datasets '
                "in the portal</a></p>"
            )
    parts += [
        "<h2>How to cite</h2>",
        f'<p class="cite" id="citation">{e(info.citation)}</p>',
        '<p><button type="button" id="copy-citation">Copy citation</button> '
        '<span id="copy-status" role="status" aria-live="polite"></span></p>',
        f"<script>{COPY_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DOI not found</title>
<meta name="robots" content="noindex"><style>{style}</style></head>
<body><h1>DOI not found</h1><p>{detail}</p>
<p><a href="/">Search the facility's data</a></p></body></html>
"""

router = APIRouter(tags=["doi"])
PageLimit = Annotated[int, Query(ge=1, le=200, description="Datasets per page (at most 200).")]


@router.get("/doi/{doi:path}", response_class=HTMLResponse, include_in_schema=False)
def landing_page(
    doi: str,
    session: SessionDep,
    settings: SettingsDep,
    limit: PageLimit = PAGE_DATASETS,
    cursor: Cursor = None,
) -> HTMLResponse:
    """The DOI's landing page: public, server-rendered, with schema.org JSON-LD."""
    try:
        content = landing(session, settings, doi, limit, cursor)
    except FairbeamError as exc:
        page = NOT_FOUND_PAGE.format(style=STYLE, detail=escape(exc.detail))
        title = "DOI not found" if exc.status_code == 404 else "Not a valid request"
        page = page.replace("DOI not found", title)
        return HTMLResponse(page, status_code=exc.status_code)
    return HTMLResponse(render(content, settings, limit))


__all__ = ["render", "router"]
