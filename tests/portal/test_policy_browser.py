"""The data policy in Chromium: a principal investigator asks for an embargo extension,
a data manager approves it on the Policy page, and the new release date shows; the
Policy page shows the next pass's plan; an archived dataset is restored from its page;
an investigation's DOI opens its landing page."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.portal.conftest import FAIRBEAM, Portal, save_screenshot
from tests.portal.test_logbook_browser import log_in

pytestmark = pytest.mark.browser

MANAGER = "dmorel"
USER = "aferreira"

# Steps of the policy pass on one object of the server's catalogue, run beside it.
BESIDE = """
import sys
from fairbeam.config import load_settings
from fairbeam.db.engine import make_engine, make_sessionmaker

settings = load_settings()
sessions = make_sessionmaker(make_engine(settings.database_url))
"""
# Archive one dataset.
ARCHIVE = """
from fairbeam.policy.archive_batch import archive_dataset

outcome = archive_dataset(sessions, settings, int(sys.argv[1]), actor="test")
print(outcome.status, outcome.problem or "")
"""
# Give a released investigation its findable DOI.
PUBLISH = """
from fairbeam.catalogue.models import Investigation
from fairbeam.policy.doi import make_findable

with sessions() as session:
    investigation = session.get(Investigation, int(sys.argv[1]))
    print(make_findable(session, settings, investigation).doi)
    session.commit()
"""


def run_beside(portal: Portal, script: str, *args: object) -> str:
    """Run a step of the policy on the server's catalogue; what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", BESIDE + script, *map(str, args)],
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def embargoed_with_pi(portal: Portal) -> tuple[dict[str, Any], str]:
    """A closed investigation with a release date whose principal investigator logs in."""
    logins = {a["username"] for a in portal.accounts if a["password"]}
    closed = portal.api("/api/investigations", MANAGER, scope="closed", limit=100)["items"]
    for investigation in closed:
        if not investigation["release_date"]:
            continue  # not kept: never released, nothing to extend
        for person in investigation["participants"]:
            if person["role"] == "principal_investigator" and person["username"] in logins:
                return dict(investigation), str(person["username"])
    raise AssertionError("the demo has an embargoed investigation whose PI has a login")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_test_id("login-state")).to_contain_text("Log in")


def test_pi_asks_for_an_extension_and_a_manager_approves_it(page: Page, portal: Portal) -> None:
    investigation, pi = embargoed_with_pi(portal)
    number = investigation["id"]
    release = datetime.fromisoformat(investigation["release_date"].replace("Z", "+00:00"))
    wanted = release.replace(year=release.year + 2).date().isoformat()

    log_in(page, portal, pi)
    page.goto(f"{portal.url}/investigations/{number}")
    expect(page.get_by_test_id("release-date")).to_have_attribute(
        "data-date", release.date().isoformat()
    )
    expect(page.get_by_test_id("release-date")).to_have_attribute("data-released", "false")
    page.get_by_role("button", name="Ask for an embargo extension").click()
    dialog = page.get_by_role(
        "dialog", name=f"Ask for an embargo extension of {investigation['code']}"
    )
    expect(dialog).to_be_visible()

    # A reason of blanks passes the form; the API's message says what to fix.
    dialog.get_by_label("Reason").fill("   ")
    dialog.get_by_role("button", name="Send the request").click()
    expect(dialog.get_by_test_id("extension-problem")).to_contain_text("reason")
    # A date not later than the current release: refused with the API's words.
    dialog.get_by_label("New release date").fill(release.date().isoformat())
    dialog.get_by_label("Reason").fill("The paper is in review at a journal.")
    dialog.get_by_role("button", name="Send the request").click()
    expect(dialog.get_by_test_id("extension-problem")).to_contain_text("must be later")

    dialog.get_by_label("New release date").fill(wanted)
    dialog.get_by_role("button", name="Send the request").click()
    expect(dialog).to_be_hidden()
    pending = page.get_by_test_id("extension")
    expect(pending).to_have_count(1)
    expect(pending).to_have_attribute("data-status", "pending")
    expect(pending).to_contain_text(wanted)
    # One request pending at a time: the button goes until a manager decides.
    expect(page.get_by_test_id("ask-extension")).to_have_count(0)
    save_screenshot(page, "policy-extension-pending")

    asked = portal.api("/api/embargo-extensions", pi, investigation=number)["items"]
    assert [(x["status"], x["release_date"][:10]) for x in asked] == [("pending", wanted)]
    # Nothing changes before the decision.
    unchanged = portal.api(f"/api/investigations/{number}", pi)
    assert unchanged["release_date"] == investigation["release_date"]

    log_out(page)
    log_in(page, portal, MANAGER)
    page.goto(f"{portal.url}/manager/policy")
    request = page.locator(f'[data-testid="pending-extension"][data-investigation="{number}"]')
    expect(request).to_contain_text("The paper is in review at a journal.")
    request.get_by_test_id("decision-note").fill("Until the paper is out.")
    request.get_by_role("button", name=f"Approve the extension of {investigation['code']}").click()
    expect(request).to_have_count(0)
    save_screenshot(page, "policy-extension-approved")

    page.goto(f"{portal.url}/investigations/{number}")
    expect(page.get_by_test_id("release-date")).to_have_attribute("data-date", wanted)
    expect(page.get_by_test_id("release-date")).to_contain_text(f"embargo until {wanted}")
    decided = page.get_by_test_id("extension")
    expect(decided).to_have_attribute("data-status", "approved")
    expect(decided).to_contain_text("Until the paper is out.")

    after = portal.api(f"/api/investigations/{number}", MANAGER)
    assert after["release_date"][:10] == wanted
    assert after["public"] is False
    [approved] = portal.api("/api/embargo-extensions", pi, investigation=number)["items"]
    assert (approved["status"], approved["decided_by"]) == ("approved", MANAGER)

    # Both steps are in the audit trail, on the Audit page and in its CSV export.
    page.goto(f"{portal.url}/manager/audit")
    page.get_by_label("Object type").fill("investigation")
    page.get_by_label("Object id").fill(str(number))
    page.get_by_label("Action").fill("embargo_extension.approve")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action=embargo_extension\.approve"))
    rows = page.get_by_test_id("audit-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(MANAGER)
    page.get_by_label("Action").fill("")
    page.get_by_role("button", name="Filter").click()
    trail = portal.api("/api/audit", MANAGER, object_type="investigation", object_id=number)
    expect(rows).to_have_count(len(trail["items"]))
    actions = [row.get_attribute("data-action") for row in rows.all()]
    assert actions[:2] == ["embargo_extension.approve", "embargo_extension.request"]
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "audit.csv"
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [r["action"] for r in exported] == actions
    assert {r["object_id"] for r in exported} == {str(number)}
    save_screenshot(page, "policy-audit")

    # The whole trail (the demo's creation makes hundreds of records) a page at a time.
    page.goto(f"{portal.url}/manager/audit")
    expect(rows).to_have_count(100)
    first = portal.api("/api/audit", MANAGER, limit=100)
    second = portal.api("/api/audit", MANAGER, limit=100, cursor=first["next"])
    page.get_by_role("button", name="Show more").click()
    expect(rows).to_have_count(100 + len(second["items"]))
    expect(rows.nth(100)).to_have_attribute("data-action", second["items"][0]["action"])


def test_policy_page_shows_the_next_pass(page: Page, portal: Portal) -> None:
    plan = portal.api("/api/policy/plan", MANAGER)
    log_in(page, portal, MANAGER)
    page.goto(f"{portal.url}/manager")
    page.get_by_role("navigation", name="Manager").get_by_role("link", name="Policy").click()
    expect(page.get_by_test_id("plan-as-of")).to_contain_text(plan["as_of"][:10])
    rows = page.get_by_test_id("plan-step")
    expect(rows).to_have_count(len(plan["steps"]))
    for name, step in plan["steps"].items():
        row = page.locator(f'[data-testid="plan-step"][data-step="{name}"]')
        expect(row).to_have_attribute("data-count", str(step["count"]))
    # The release step lists the embargoed investigations a later day would open.
    page.get_by_label("Plan as of").fill("2040-01-01")
    later = portal.api("/api/policy/plan", MANAGER, as_of="2040-01-01")
    release = page.locator('[data-testid="plan-step"][data-step="release"]')
    expect(release).to_have_attribute("data-count", str(later["steps"]["release"]["count"]))
    assert later["steps"]["release"]["count"] > 0
    expect(page).to_have_url(f"{portal.url}/manager/policy?as_of=2040-01-01")

    # A dry run is recorded with what it would do; the page lists it among the passes.
    dry = subprocess.run(
        [str(FAIRBEAM), "policy", "run", "--dry-run", "--json"],
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr
    recorded = json.loads(dry.stdout)
    page.reload()
    row = page.locator(f'[data-testid="pass-row"][data-id="{recorded["id"]}"]')
    expect(row).to_have_attribute("data-status", "done")
    expect(row).to_contain_text("dry run")
    planned = recorded["summary"]["plan"]
    release_count = planned["release"]["count"]
    if release_count:
        expect(row).to_contain_text(f"Release: {release_count}")
    elif not any(step["count"] for step in planned.values()):
        # The demo's own passes left nothing due today.
        expect(row).to_contain_text("nothing to do")
    assert recorded["id"] in [p["id"] for p in portal.api("/api/policy/passes", MANAGER)["items"]]


def test_user_restores_an_archived_dataset(page: Page, portal: Portal) -> None:
    investigation = portal.api("/api/investigations", USER, scope="mine", limit=1)["items"][0]
    # The first raw dataset of a demo investigation has its NeXus file on disk (or in the
    # archive tier).
    query = {"investigation": investigation["id"], "type": "raw", "sort": "start", "limit": 1}
    dataset = portal.api("/api/datasets", USER, **query)["items"][0]
    number = dataset["id"]
    # The demo's passes archived old raw data already; a recent dataset is archived here.
    if dataset["storage_state"] == "online":
        archived = run_beside(portal, ARCHIVE, number)
        assert archived.startswith("archived"), archived
    assert portal.api(f"/api/datasets/{number}", USER)["storage_state"] == "archived"

    log_in(page, portal, USER)
    page.goto(f"{portal.url}/datasets/{number}")
    notice = page.get_by_test_id("storage-notice")
    expect(notice).to_have_attribute("data-state", "archived")
    expect(page.get_by_test_id("viewer")).to_have_count(0)
    save_screenshot(page, "policy-archived")
    page.get_by_role("button", name="Restore from archive").click()
    status = page.get_by_test_id("restore-status")
    expect(status).to_be_visible()
    # The server's worker runs the restore; the page asks again until it is done.
    expect(status).to_have_attribute("data-status", "done", timeout=60_000)
    expect(notice).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("viewer")).to_be_visible()
    save_screenshot(page, "policy-restored")

    assert portal.api(f"/api/datasets/{number}", USER)["storage_state"] == "online"
    [restore] = portal.api("/api/restores", USER, dataset=number)["items"]
    assert restore["status"] == "done"


def test_user_asks_for_a_doi_on_datasets_of_two_investigations(page: Page, portal: Portal) -> None:
    mine = portal.api("/api/investigations", USER, scope="mine", limit=50)["items"]
    chosen = [i for i in mine if i["dataset_count"] >= 2][:2]
    assert len(chosen) == 2, "the demo user takes part in two investigations with datasets"
    log_in(page, portal, USER)
    picked: list[int] = []
    for investigation, ticks in zip(chosen, (2, 1), strict=True):
        page.goto(f"{portal.url}/investigations/{investigation['id']}")
        rows = page.get_by_test_id("dataset-row")
        expect(rows.first).to_be_visible()
        for row in range(ticks):
            rows.nth(row).get_by_test_id("dataset-select").check()
            picked.append(int(rows.nth(row).get_attribute("data-id") or 0))
        page.get_by_role("button", name="Add to a DOI request").first.click()
    basket = page.get_by_test_id("doi-basket-count")
    expect(basket).to_have_text("3 datasets from 2 investigations in the DOI request")

    page.get_by_role("button", name="Ask for a DOI").click()
    dialog = page.get_by_role("dialog", name="Ask for a DOI on a collection of datasets")
    expect(dialog.get_by_role("listitem")).to_have_count(3)
    dialog.get_by_label("Title").fill("Datasets of the 2026 paper")
    dialog.get_by_label("Description").fill("Every dataset behind the figures.")
    dialog.get_by_role("button", name="Ask for the DOI").click()
    expect(page.get_by_test_id("doi-sent")).to_contain_text("pending")
    expect(basket).to_have_count(0)  # sent: the basket is empty again

    [asked] = portal.api("/api/doi-requests", USER)["items"]
    assert (asked["title"], asked["dataset_count"], asked["status"]) == (
        "Datasets of the 2026 paper",
        3,
        "pending",
    )
    page.goto(f"{portal.url}/my-data")
    expect(page.get_by_test_id("my-doi-request")).to_have_attribute("data-status", "pending")

    log_out(page)
    log_in(page, portal, MANAGER)
    page.goto(f"{portal.url}/manager/policy")
    request = page.locator(f'[data-testid="pending-doi"][data-id="{asked["id"]}"]')
    expect(request).to_contain_text("3 datasets")
    request.get_by_role(
        "button", name="Approve the DOI request “Datasets of the 2026 paper”"
    ).click()
    expect(request).to_have_count(0)

    decided = portal.api(f"/api/doi-requests/{asked['id']}", USER)
    assert decided["status"] == "approved"
    assert decided["doi"]
    log_out(page)
    log_in(page, portal, USER)
    page.goto(f"{portal.url}/my-data")
    mine_now = page.get_by_test_id("my-doi-request")
    expect(mine_now).to_have_attribute("data-status", "approved")
    expect(mine_now.get_by_role("link", name=decided["doi"])).to_have_attribute(
        "href", f"/doi/{decided['doi']}"
    )
    save_screenshot(page, "policy-doi-approved")


def test_investigation_doi_opens_its_landing_page(page: Page, portal: Portal) -> None:
    opened = portal.api("/api/investigations", scope="open", limit=1)["items"][0]
    # The demo's investigations are created without the policy: the pass gives them DOIs.
    doi = run_beside(portal, PUBLISH, opened["id"])
    investigation = portal.api(f"/api/investigations/{opened['id']}")
    assert (investigation["doi"], investigation["doi_state"]) == (doi, "findable")
    page.goto(f"{portal.url}/investigations/{investigation['id']}")
    link = page.get_by_test_id("doi-landing")
    expect(link).to_have_text(investigation["doi"])
    expect(page.get_by_role("link", name=f"{investigation['doi']} at doi.org")).to_have_attribute(
        "href", f"https://doi.org/{investigation['doi']}"
    )
    link.click()
    expect(page).to_have_url(f"{portal.url}/doi/{investigation['doi']}")
    expect(page.locator("h1")).to_contain_text(investigation["title"])
    json_ld = page.locator('script[type="application/ld+json"]').first.text_content() or ""
    assert '"Dataset"' in json_ld
