"""The logbook page in Chromium: an annotation with a pasted image appears live in a
second page, is edited, and its history holds both versions; HTML posted with a script
or an event handler never runs."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.portal.conftest import Portal, save_screenshot

pytestmark = pytest.mark.browser

USER = "aferreira"


def _png(width: int, height: int) -> bytes:
    """A red PNG made with zlib (no imaging library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xd0\x20\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# An image pasted into the editor as a file.
PNG = base64.b64encode(_png(40, 24)).decode()

PASTE_IMAGE = """async (png) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], 'beam.png', { type: 'image/png' }));
  const target = document.querySelector('[data-testid="logbook-editor"]');
  target.focus();
  const paste = { clipboardData: data, bubbles: true, cancelable: true };
  target.dispatchEvent(new ClipboardEvent('paste', paste));
}"""


def log_in(page: Page, portal: Portal, username: str) -> None:
    """Log in through the form and wait until the header shows the account."""
    page.goto(f"{portal.url}/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(portal.password(username))
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-state")).to_contain_text(
        portal.account(username)["full_name"]
    )


def own_investigation(portal: Portal) -> dict[str, Any]:
    """An investigation the user takes part in, so may write in its logbook."""
    mine = portal.api("/api/investigations", USER, scope="mine", limit=50)["items"]
    assert mine, "the demo gives the user investigations"
    return dict(mine[0])


def post(portal: Portal, body: dict[str, Any]) -> dict[str, Any]:
    """POST an event as the user through the API."""
    portal.get("/api/me", USER)  # logs in once, keeping the token
    response = httpx.post(
        f"{portal.url}/api/logbook/events",
        json=body,
        headers={"Authorization": f"Bearer {portal.tokens[USER]}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_annotation_with_image_live_edit_and_history(page: Page, portal: Portal) -> None:
    inv = own_investigation(portal)
    url = f"{portal.url}/investigations/{inv['id']}/logbook"
    log_in(page, portal, USER)
    # A second page of the same session follows the logbook live.
    watcher = page.context.new_page()
    watcher.goto(url)
    expect(watcher.get_by_test_id("stream-state")).to_have_text("● live")

    page.goto(url)
    editor = page.get_by_test_id("logbook-editor")
    editor.click()
    page.keyboard.type("Beam aligned on the crystal, see the image ")
    page.evaluate(PASTE_IMAGE, PNG)
    expect(editor.locator("img")).to_have_count(1)
    page.get_by_test_id("logbook-post").click()

    mine = page.get_by_test_id("logbook-event").filter(has_text="Beam aligned on the crystal")
    expect(mine).to_have_count(1)
    # The other page shows it without a reload, its image inline.
    live = watcher.get_by_test_id("logbook-event").filter(has_text="Beam aligned on the crystal")
    expect(live).to_have_count(1, timeout=20_000)
    image = live.locator(".event-html img")
    expect(image).to_have_count(1)
    assert (image.get_attribute("src") or "").startswith("data:image/png;base64,")
    assert image.evaluate("(img) => img.decode().then(() => img.naturalWidth)") == 40
    save_screenshot(watcher, "logbook_live_second_page")

    # Edit it: a second version, with the image kept.
    sequence = mine.get_attribute("data-sequence")
    page.get_by_role("button", name=f"Edit annotation {sequence}").click()
    edit = mine.get_by_role("textbox", name=f"Edit annotation {sequence}")
    edit.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Then refocused at 12.7 keV.")
    mine.get_by_role("button", name="Save").click()
    expect(mine).to_have_attribute("data-version", "2")
    expect(mine.locator(".event-html")).to_contain_text("refocused at 12.7 keV")

    page.get_by_role("button", name=f"History of annotation {sequence}").click()
    versions = mine.get_by_test_id("event-version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_have_attribute("data-version", "1")
    expect(versions.nth(0)).not_to_contain_text("refocused")
    expect(versions.nth(0)).to_contain_text("Beam aligned on the crystal")
    expect(versions.nth(1)).to_contain_text("refocused at 12.7 keV")
    expect(versions.nth(0)).to_contain_text(USER)  # the author of each version
    expect(versions.nth(1)).to_contain_text(USER)
    watcher.close()


def test_stale_edit_says_someone_edited(page: Page, portal: Portal) -> None:
    inv = own_investigation(portal)
    event = post(portal, {"investigation": str(inv["id"]), "content": "First words of a note"})
    log_in(page, portal, USER)
    page.goto(f"{portal.url}/investigations/{inv['id']}/logbook?q=First+words")
    card = page.locator(f'[data-testid="logbook-event"][data-id="{event["id"]}"]')
    page.get_by_role("button", name=f"Edit annotation {event['sequence']}").click()
    # Someone else's edit lands meanwhile.
    httpx.put(
        f"{portal.url}/api/logbook/events/{event['id']}",
        json={"version": 1, "content": "Changed elsewhere"},
        headers={"Authorization": f"Bearer {portal.tokens[USER]}"},
    ).raise_for_status()
    card.get_by_role("textbox").click()
    page.keyboard.type(" and mine")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_test_id("edit-conflict")).to_contain_text("Someone edited this meanwhile")
    card.get_by_role("button", name="Reload this event").click()
    expect(card).to_have_attribute("data-version", "2")
    expect(card.get_by_role("textbox")).to_contain_text("Changed elsewhere")


def test_injected_script_never_runs(page: Page, portal: Portal) -> None:
    inv = own_investigation(portal)
    target = {"investigation": str(inv["id"])}
    post(
        portal,
        {
            **target,
            "format": "html",
            "content": '<p>html attack</p><img src=x onerror="window.__pwned = 1">'
            "<script>window.__pwned = 2</script>"
            '<a href="javascript:window.__pwned=3">link</a>',
        },
    )
    post(
        portal,
        {
            **target,
            "content": 'markdown attack <img src=x onerror="window.__pwned = 4">\n\n'
            "<script>window.__pwned = 5</script>",
        },
    )
    log_in(page, portal, USER)
    page.goto(f"{portal.url}/investigations/{inv['id']}/logbook?q=attack")
    events = page.get_by_test_id("logbook-event")
    expect(events).to_have_count(2)
    page.locator("a", has_text="link").first.click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".event-html script").count() == 0
    assert page.locator(".event-html [onerror]").count() == 0
