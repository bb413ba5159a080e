"""The portal in Chromium against a real server with the demo facility: log in, My Data,
the viewer's default plot, search with a parameter condition, what an anonymous visitor
sees of an embargoed investigation, and the statistics page against /api/stats."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.portal.conftest import Portal, save_screenshot

pytestmark = pytest.mark.browser

USER = "aferreira"  # a visiting scientist of the demo, with released and embargoed proposals
MANAGER = "dmorel"

# Distinct colours of a PNG, counted by the browser's own decoder (no imaging library).
COUNT_COLOURS = """async (png) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + png;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length; i += 4) {
    seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return seen.size;
}"""


def log_in(page: Page, portal: Portal, username: str) -> None:
    """Log in through the login form and wait until the header shows the account."""
    page.goto(f"{portal.url}/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(portal.password(username))
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-state")).to_contain_text(
        portal.account(username)["full_name"]
    )


def texts(rows: Locator, attribute: str) -> list[str]:
    """An attribute of every row, in page order."""
    return [row.get_attribute(attribute) or "" for row in rows.all()]


def test_log_in(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/login")
    page.get_by_test_id("login-username").fill(USER)
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("wrong username or password")
    name = portal.account(USER)["full_name"]
    expect(page.get_by_test_id("login-state")).not_to_contain_text(name)

    log_in(page, portal, USER)
    page.reload()  # the session survives a reload
    expect(page.get_by_test_id("login-state")).to_contain_text(name)


def test_my_data_lists_my_investigations(page: Page, portal: Portal) -> None:
    mine = portal.api("/api/investigations", USER, scope="mine", limit=1000)["items"]
    assert len(mine) >= 2, "the demo user should take part in several proposals"

    log_in(page, portal, USER)
    page.goto(f"{portal.url}/my-data")
    rows = page.get_by_test_id("investigation-row")
    expect(rows).to_have_count(len(mine))
    assert texts(rows, "data-code") == [i["code"] for i in mine]
    first = rows.first
    expect(first).to_contain_text(mine[0]["title"])
    expect(first).to_contain_text(mine[0]["instrument"])


def _dataset_with_a_plot(portal: Portal) -> dict[str, Any]:
    """A dataset of the user's whose NeXus file the viewer can open."""
    mine = portal.api("/api/investigations", USER, scope="mine", limit=1000)["items"]
    for investigation in mine:
        datasets = portal.api("/api/datasets", USER, investigation=investigation["id"])["items"]
        for dataset in datasets:
            files = portal.api(f"/api/datasets/{dataset['id']}/files", USER, limit=1000)
            for datafile in files["items"]:
                if not datafile["path"].endswith((".h5", ".nxs", ".nx5", ".hdf5")):
                    continue
                # Most files of the demo are listed, not written: only the NeXus ones are.
                meta = portal.get(f"/api/files/{datafile['id']}/h5/meta/", USER, path="/")
                if meta.status_code == 200:
                    return dict(dataset)
    raise AssertionError(f"no dataset of {USER} has a NeXus file on disk")


def test_viewer_draws_the_default_plot(page: Page, portal: Portal) -> None:
    dataset = _dataset_with_a_plot(portal)
    log_in(page, portal, USER)
    page.goto(f"{portal.url}/datasets/{dataset['id']}")
    expect(page.get_by_role("heading", name=dataset["name"])).to_be_visible()
    viewer = page.get_by_test_id("viewer")
    canvas = viewer.locator("canvas").first
    expect(canvas).to_be_visible(timeout=30_000)
    box = canvas.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, box

    # WebGL draws asynchronously: wait until the canvas holds a plot, not one flat colour.
    colours = 0
    for _ in range(40):
        png = base64.b64encode(canvas.screenshot()).decode()
        colours = page.evaluate(COUNT_COLOURS, png)
        if colours > 8:
            break
        page.wait_for_timeout(250)
    assert colours > 8, f"the viewer's canvas shows {colours} colour(s): nothing was drawn"


def test_search_with_a_parameter_condition(page: Page, portal: Portal) -> None:
    condition = "wavelength < 0.09 nm"  # 0.9 angstrom: the unit is converted
    everything = portal.api("/api/datasets/facets", USER)["total"]
    expected = portal.api("/api/datasets", USER, param=condition, limit=50)["items"]
    assert 0 < len(expected) < everything, "the condition should pick some datasets, not all"
    for dataset in expected:
        wavelength = dataset["parameters"]["wavelength"]
        assert wavelength["unit"] == "angstrom" and wavelength["value"] < 0.9

    log_in(page, portal, USER)
    page.goto(f"{portal.url}/search")
    rows = page.get_by_test_id("dataset-row")
    expect(rows.first).to_be_visible()
    condition_input = page.get_by_test_id("param-condition")
    condition_input.fill(condition)
    condition_input.press("Enter")
    expect(rows).to_have_count(len(expected))
    assert texts(rows, "data-id") == [str(d["id"]) for d in expected]
    assert re.search(r"wavelength", page.url), "the condition belongs in the URL"
    # The facets count what the condition matches.
    facets = portal.api("/api/datasets/facets", USER, param=condition)
    instruments = page.get_by_test_id("facet-instrument").locator("[data-value]")
    expect(instruments).to_have_count(len(facets["instrument"]))
    for facet in facets["instrument"]:
        count = instruments.and_(page.locator(f'[data-value="{facet["value"]}"]'))
        expect(count.get_by_test_id("facet-count")).to_have_text(f"{facet['count']:,}")


def test_anonymous_visitor_sees_an_embargoed_title_only(page: Page, portal: Portal) -> None:
    closed = portal.api("/api/investigations", scope="closed", limit=1000)["items"]
    embargoed = next(i for i in closed if i["dataset_count"] > 0 and not i["placeholder"])
    hidden = portal.api("/api/datasets", MANAGER, investigation=embargoed["id"])["items"]
    assert hidden, "the embargoed investigation should hold datasets"
    assert portal.api("/api/datasets", investigation=embargoed["id"])["items"] == []

    page.goto(f"{portal.url}/investigations/{embargoed['id']}")
    page_root = page.get_by_test_id("investigation-page")
    expect(page_root).to_contain_text(embargoed["title"])
    expect(page.get_by_test_id("embargo-notice")).to_be_visible()
    expect(page.get_by_test_id("dataset-row")).to_have_count(0)
    expect(page.get_by_test_id("file-row")).to_have_count(0)
    for dataset in hidden[:3]:
        expect(page_root).not_to_contain_text(dataset["name"])
    save_screenshot(page, "test_anonymous_visitor_sees_an_embargoed_title_only-investigation")

    # Going straight to one of its datasets shows nothing of it either.
    page.goto(f"{portal.url}/datasets/{hidden[0]['id']}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(hidden[0]["name"])
    expect(page.get_by_test_id("file-row")).to_have_count(0)


@pytest.mark.parametrize("since", ["all", "7d"])
def test_statistics_page_shows_the_api_numbers(page: Page, portal: Portal, since: str) -> None:
    stats = portal.api("/api/stats", MANAGER, since=since)
    assert stats["datasets"] > 0
    log_in(page, portal, MANAGER)
    page.goto(f"{portal.url}/manager/statistics")
    panel = page.get_by_test_id(f"stats-{since}")
    for name in ("datasets", "instruments", "volume_bytes", "files", "max_files"):
        stat = panel.get_by_test_id(f"stat-{name.replace('_', '-')}")
        expect(stat).to_have_attribute("data-value", str(stats[name]))
    expect(panel.get_by_test_id("stat-datasets")).to_contain_text(f"{stats['datasets']:,}")
