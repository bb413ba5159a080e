"""Attachments, exports, the live stream, statistics, notifications and access per role."""

from __future__ import annotations

import base64
import io
import json
import threading
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from fairbeam.config import Settings
from tests.world import ROLES, World

EVENTS = "/api/logbook/events"
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _post(http: httpx.Client, world: World, content: str, role: str = "participant") -> Any:
    body = {"investigation": "MX-1001", "content": content}
    response = http.post(EVENTS, json=body, headers=world.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def test_attachments_and_their_limit(http: httpx.Client, world: World, settings: Settings) -> None:
    event = _post(http, world, "with a picture")
    url = f"{EVENTS}/{event['id']}/attachments"
    files = {"file": ("beam.png", PNG, "image/png")}
    made = http.post(url, files=files, headers=world.headers("participant"))
    assert made.status_code == 201, made.text
    assert made.json()["size"] == len(PNG) and made.json()["checksum"].startswith("sha256:")
    content = http.get(made.json()["url"], headers=world.headers("staff"))
    assert content.content == PNG
    assert http.get(made.json()["url"], headers=world.headers("other_user")).status_code == 404
    too_big = b"x" * (settings.attachment_max_bytes + 1)
    refused = http.post(
        url, files={"file": ("big.bin", too_big)}, headers=world.headers("participant")
    )
    assert refused.status_code == 413 and "limit" in refused.json()["detail"]
    shown = http.get(f"{EVENTS}/{event['id']}", headers=world.headers("participant")).json()
    assert [a["filename"] for a in shown["attachments"]] == ["beam.png"]


def test_exports(http: httpx.Client, world: World) -> None:
    event = _post(http, world, "Aligned the **crystal** at 100 K")
    http.post(
        f"{EVENTS}/{event['id']}/attachments",
        files={"file": ("beam.png", PNG, "image/png")},
        headers=world.headers("participant"),
    )
    _post(http, world, f"inline ![beam](data:image/png;base64,{base64.b64encode(PNG).decode()})")
    page = http.get(
        "/api/logbook/export.html",
        params={"investigation": "MX-1001"},
        headers=world.headers("staff"),
    )
    assert page.status_code == 200
    assert "Aligned the <strong>crystal</strong>" in page.text
    assert "data:image/png;base64," in page.text and "/api/logbook/attachments" not in page.text
    pdf = http.get(
        "/api/logbook/export.pdf",
        params={"investigation": "MX-1001"},
        headers=world.headers("staff"),
    )
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    words = " ".join(page.extract_text() for page in reader.pages)
    assert "Aligned the crystal at 100 K" in words
    # Both images are the same PNG, which the PDF holds once.
    assert sum(len(page.images) for page in reader.pages) >= 1


def _read_messages(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in response.iter_lines():
        if line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and "data" in current:
            messages.append(current)
            current = {}
            if len(messages) == count:
                break
    return messages


def test_live_stream_resumes_after_a_drop(server: Any, world: World) -> None:
    with httpx.Client(base_url=server.url, timeout=20) as http:
        _post(http, world, "before the page opened")
        headers = world.headers("staff")
        params = {"investigation": "MX-1001"}
        with http.stream("GET", "/api/logbook/stream", params=params, headers=headers) as live:
            assert live.headers["content-type"].startswith("text/event-stream")
            threading.Timer(0.3, _post, (http, world, "first live")).start()
            (first,) = _read_messages(live, 1)
        assert first["data"]["content"] == "first live" and first["id"] == 2
        # Dropped: three events are written while nobody listens.
        for i in range(3):
            _post(http, world, f"while away {i}")
        resumed = {**headers, "Last-Event-ID": str(first["id"])}
        with http.stream("GET", "/api/logbook/stream", params=params, headers=resumed) as live:
            got = _read_messages(live, 3)
        assert [m["id"] for m in got] == [3, 4, 5]
        assert [m["data"]["content"] for m in got] == [f"while away {i}" for i in range(3)]
        refused = http.get(
            "/api/logbook/stream", params=params, headers=world.headers("other_user")
        )
        assert refused.status_code == 404


def test_dataset_registration_posts_a_notification(http: httpx.Client, world: World) -> None:
    body = {
        "investigation": "MX-1001",
        "name": "scan_0042",
        "location": "/data/MX-1001/scan_0042",
        "technique": "MX",
        "files": [{"path": "scan.h5", "size": 10}],
    }
    assert (
        http.post("/api/datasets", json=body, headers=world.headers("software")).status_code == 201
    )
    again = http.post("/api/datasets", json=body, headers=world.headers("software"))
    assert again.status_code == 200
    page = http.get(
        EVENTS,
        params={"investigation": "MX-1001", "type": "notification"},
        headers=world.headers("participant"),
    ).json()
    assert len(page["items"]) == 1
    note = page["items"][0]
    assert "scan_0042" in note["content"] and note["author"]["kind"] == "system"
    assert note["dataset"] == again.json()["id"]


def test_statistics(http: httpx.Client, world: World) -> None:
    _post(http, world, "an annotation")
    http.post(
        EVENTS,
        json={"instrument": "ID23", "type": "notification", "content": "beam lost"},
        headers=world.headers("software"),
    )
    stats = http.get("/api/logbook/stats", params={"since": "7d"}, headers=world.headers("manager"))
    body = stats.json()
    assert (body["events"], body["annotations"], body["notifications"]) == (2, 1, 1)
    assert {row["logbook"] for row in body["largest"]} == {
        f"investigation:{world.closed_investigation}",
        "instrument:1",
    }
    other = http.get("/api/logbook/stats", headers=world.headers("other_staff")).json()
    assert other["events"] == 0


# Who reads and who writes each logbook, on real events.
READERS = {
    "MX-1001": {"participant", "staff", "manager", "software"},
    "MX-0900": set(ROLES),
    "ID23": {"staff", "manager", "software"},
}


@pytest.mark.parametrize("where", sorted(READERS))
def test_access_for_every_role(http: httpx.Client, world: World, where: str) -> None:
    target = {"instrument": where} if where == "ID23" else {"investigation": where}
    made = http.post(
        EVENTS, json={**target, "content": "by a manager"}, headers=world.headers("manager")
    ).json()
    for role in ROLES:
        one = http.get(f"{EVENTS}/{made['id']}", headers=world.headers(role))
        history = http.get(f"{EVENTS}/{made['id']}/history", headers=world.headers(role))
        listed = http.get(EVENTS, params={"limit": 1000}, headers=world.headers(role)).json()
        seen = made["id"] in {e["id"] for e in listed["items"]}
        expected = role in READERS[where]
        assert (one.status_code == 200, history.status_code == 200, seen) == (expected,) * 3, role
        edit = http.put(
            f"{EVENTS}/{made['id']}",
            json={"version": one.json().get("version", 1), "content": f"edited by {role}"},
            headers=world.headers(role),
        )
        writers = {"staff", "manager"} | ({"participant"} if where == "MX-1001" else set())
        if role == "anonymous":
            assert edit.status_code == 401
        elif role in writers:
            assert edit.status_code == 200, (role, edit.text)
        else:
            assert edit.status_code == (403 if expected else 404), (role, edit.text)
