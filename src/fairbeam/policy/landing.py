"""The public face of a DOI: `GET /api/dois/{doi}` (JSON) and the landing page
`/doi/{doi}` (server-rendered HTML, so that search engines read it, with schema.org
`Dataset` JSON-LD in its head).

Both show the metadata at once; datasets and downloads only once the data is open.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.api.deps import Cursor, SessionDep, SettingsDep
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.catalogue.service import get_investigation, paginate
from fairbeam.config import Settings
from fairbeam.db.base import as_utc, utcnow
from fairbeam.errors import FairbeamError, NotFound
from fairbeam.policy import datacite
from fairbeam.policy.doi import collection_is_open, doi_row
from fairbeam.policy.models import Doi, DoiCollection, DoiCollectionDataset

PAGE_DATASETS = 20
DATASET_SORT = (("start", "id"), False)


class CreatorOut(BaseModel):
    name: str
    given_name: str | None
    family_name: str | None
    orcid: str | None = Field(description="The ORCID iD as a URL, when known.")
    kind: str = Field(description="Personal or Organizational.")


class DoiDatasetOut(BaseModel):
    id: int
    name: str
    technique: str
    start: datetime
    file_count: int
    volume_bytes: int


class DoiOut(BaseModel):
    doi: str
    resolver: str = Field(description="https://doi.org/ followed by the DOI.")
    url: str = Field(description="The landing page the DOI resolves to.")
    state: str = Field(description="registered (resolves) or findable (also indexed).")
    kind: str = Field(description="investigation or collection.")
    title: str
    description: str
    creators: list[CreatorOut]
    publisher: str
    publication_year: int
    open: bool = Field(description="True once every dataset it names is open.")
    release_date: datetime | None = Field(description="When the data opens (or opened).")
    instrument: str | None
    investigation: int | None
    code: str | None = Field(description="The investigation's proposal code.")
    collection: int | None
    techniques: list[str]
    collected: str | None = Field(description="Start/end of the measurements (ISO 8601).")
    dataset_count: int
    file_count: int
    volume_bytes: int
    formats: list[str]
    related: list[str] = Field(description="DOIs it references or is referenced by.")
    citation: str
    attributes: dict[str, Any] = Field(description="The DataCite 4.5 attributes.")


class Landing(BaseModel):
    """What the page shows: the public JSON plus a page of datasets when open."""

    info: DoiOut
    datasets: list[DoiDatasetOut]
    next: str | None


def _creator(entry: dict[str, Any]) -> CreatorOut:
    orcid = next(
        (
            i["nameIdentifier"]
            for i in entry.get("nameIdentifiers", [])
            if i.get("nameIdentifierScheme") == "ORCID"
        ),
        None,
    )
    return CreatorOut(
        name=entry["name"],
        given_name=entry.get("givenName"),
        family_name=entry.get("familyName"),
        orcid=orcid,
        kind=entry.get("nameType", "Personal"),
    )


def _description(attributes: dict[str, Any]) -> str:
    return next(
        (
            d["description"]
            for d in attributes.get("descriptions", [])
            if d["descriptionType"] == "Abstract"
        ),
        "",
    )


def _date(attributes: dict[str, Any], kind: str) -> str | None:
    return next((d["date"] for d in attributes.get("dates", []) if d["dateType"] == kind), None)


def doi_info(session: Session, settings: Settings, row: Doi) -> DoiOut:
    """The public metadata of a DOI, built afresh from the catalogue."""
    investigation: Investigation | None = None
    if row.investigation_id is not None:
        investigation = get_investigation(session, row.investigation_id)
        attributes = datacite.investigation_attributes(session, settings, investigation, row.doi)
        release: datetime | None = datacite.expected_release(settings, investigation)
        is_open = (
            investigation.release_date is not None
            and as_utc(investigation.release_date) <= utcnow()
        )
        counts = (
            investigation.dataset_count,
            investigation.file_count,
            investigation.volume_bytes,
        )
    elif row.collection_id is not None:
        collection = session.get(DoiCollection, row.collection_id)
        if collection is None:
            raise NotFound(f"DOI {row.doi} not found")
        attributes = datacite.collection_attributes(session, settings, collection, row.doi)
        release = datacite.collection_release(
            settings, datacite.collection_investigations(session, collection.id)
        )
        is_open = collection_is_open(session, collection.id)
        totals = datacite.collection_totals(session, collection.id)
        counts = (totals["datasets"], totals["files"], totals["bytes"])
    else:
        raise NotFound(f"DOI {row.doi} not found")
    return DoiOut(
        doi=row.doi,
        resolver=f"https://doi.org/{row.doi}",
        url=row.url or datacite.landing_url(settings, row.doi),
        state=row.state,
        kind="investigation" if investigation is not None else "collection",
        title=attributes["titles"][0]["title"],
        description=_description(attributes),
        creators=[_creator(c) for c in attributes["creators"]],
        publisher=attributes["publisher"]["name"],
        publication_year=attributes["publicationYear"],
        open=is_open,
        release_date=release,
        instrument=investigation.instrument.name if investigation else None,
        investigation=investigation.id if investigation else None,
        code=investigation.code if investigation else None,
        collection=row.collection_id,
        techniques=[s["subject"] for s in attributes.get("subjects", [])],
        collected=_date(attributes, "Collected"),
        dataset_count=counts[0],
        file_count=counts[1],
        volume_bytes=counts[2],
        formats=list(attributes.get("formats", [])),
        related=[r["relatedIdentifier"] for r in attributes.get("relatedIdentifiers", [])],
        citation=datacite.citation(attributes),
        attributes=attributes,
    )


def get_doi(session: Session, settings: Settings, doi: str) -> DoiOut:
    """A DOI's public metadata; 404 for a DOI the facility did not mint."""
    row = doi_row(session, doi)
    if row is None:
        raise NotFound(f"DOI {doi} not found")
    return doi_info(session, settings, row)


def landing(
    session: Session, settings: Settings, doi: str, limit: int, cursor: str | None
) -> Landing:
    """The landing page's content: metadata, and a page of datasets once open."""
    info = get_doi(session, settings, doi)
    if not info.open:
        return Landing(info=info, datasets=[], next=None)
    query = select(Dataset)
    if info.investigation is not None:
        query = query.where(Dataset.investigation_id == info.investigation)
    else:
        query = query.join(
            DoiCollectionDataset, DoiCollectionDataset.dataset_id == Dataset.id
        ).where(DoiCollectionDataset.collection_id == info.collection)
    rows, next_cursor = paginate(session, query, Dataset, DATASET_SORT, limit, cursor)
    return Landing(
        info=info,
        datasets=[
            DoiDatasetOut(
                id=d.id,
                name=d.name,
                technique=d.technique,
                start=d.start,
                file_count=d.file_count,
                volume_bytes=d.volume_bytes,
            )
            for d in rows
        ],
        next=next_cursor,
    )


# schema.org ----------------------------------------------------------------


def _google_description(info: DoiOut, settings: Settings) -> str:
    """Search engines want 50 to 5000 characters."""
    text = info.description.strip()
    facts = (
        f"{info.title}: data measured"
        + (f" on {info.instrument}" if info.instrument else "")
        + f" at the {settings.facility_name}"
        + (f" (proposal {info.code})" if info.code else "")
        + "."
    )
    if len(text) < 50:
        text = f"{text} {facts}".strip()
    return text[:5000]


def json_ld(info: DoiOut, settings: Settings) -> dict[str, Any]:
    """The schema.org `Dataset` a search engine reads from the landing page."""
    public = settings.public_url.rstrip("/")
    creators: list[dict[str, Any]] = []
    for c in info.creators:
        if c.kind == "Organizational":
            creators.append({"@type": "Organization", "name": c.name})
            continue
        creator: dict[str, Any] = {"@type": "Person", "name": c.name}
        if c.given_name:
            creator["givenName"] = c.given_name
        if c.family_name:
            creator["familyName"] = c.family_name
        if c.orcid:
            creator["sameAs"] = c.orcid
            creator["identifier"] = c.orcid
        creators.append(creator)
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": info.resolver,
        "name": info.title,
        "description": _google_description(info, settings),
        "url": info.url,
        "sameAs": info.resolver,
        "identifier": [
            info.resolver,
            {
                "@type": "PropertyValue",
                "propertyID": "DOI",
                "value": info.doi,
                "url": info.resolver,
            },
        ],
        "creator": creators,
        "publisher": {"@type": "Organization", "name": info.publisher, "url": public},
        "provider": {"@type": "Organization", "name": info.publisher, "url": public},
        "keywords": info.techniques,
        "measurementTechnique": info.techniques,
        "isAccessibleForFree": info.open,
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "name": f"{settings.facility} data catalogue",
            "url": public,
        },
        "citation": info.citation,
    }
    available = _date(info.attributes, "Available")
    if available:
        data["datePublished"] = available
    if info.collected:
        data["temporalCoverage"] = info.collected
    if info.code:
        data["alternateName"] = info.code
    if info.related:
        relation = "isPartOf" if info.kind == "investigation" else "isBasedOn"
        data[relation] = [f"https://doi.org/{d}" for d in info.related]
    if info.open:
        page = (
            f"{public}/investigations/{info.investigation}"
            if info.investigation is not None
            else info.url
        )
        data["distribution"] = [
            {"@type": "DataDownload", "encodingFormat": fmt, "contentUrl": page}
            for fmt in info.formats or ["application/octet-stream"]
        ]
        data["conditionsOfAccess"] = (
            "Open data; downloading needs a registered identity at the facility."
            if settings.open_data_needs_login
            else "Open data."
        )
    else:
        when = info.release_date.date().isoformat() if info.release_date else "a later date"
        data["conditionsOfAccess"] = (
            f"Under embargo: the data opens on {when}; its description is public."
        )
    return data


# HTML ------------------------------------------------------------------------

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
        f'<meta name="description" content="{e(_google_description(info, settings)[:300])}">',
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


__all__ = ["DoiOut", "Landing", "doi_info", "get_doi", "json_ld", "landing", "render", "router"]
