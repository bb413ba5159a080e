"""Writing and reading events over HTTP: sequence numbers, versions, hiding, idempotency."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.world import World

EVENTS = "/api/logbook/events"


def post(http: httpx.Client, world: World, role: str, **body: Any) -> httpx.Response:
    body.setdefault("investigation", "MX-1001")
    body.setdefault("content", "hello")
    return http.post(EVENTS, json=body, headers=world.headers(role))


def test_sequence_numbers_under_concurrent_writers(server: Any, world: World) -> None:
    def writer(role: str, count: int, batch: bool) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for i in range(count):
                if batch:
                    events = [
                        {"investigation": "MX-1001", "type": "notification", "content": f"{j}"}
                        for j in range(5)
                    ]
                    r = client.post(
                        f"{EVENTS}/batch", json={"events": events}, headers=world.headers(role)
                    )
                else:
                    r = post(client, world, role, content=f"{role} {i}")
                assert r.status_code in (200, 201), r.text

    threads = [
        threading.Thread(target=writer, args=(role, 10, role == "software"))
        for role in ("participant", "staff", "manager", "software", "participant", "staff")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with httpx.Client(base_url=server.url) as http:
        page = http.get(
            EVENTS,
            params={"investigation": "MX-1001", "limit": 1000, "order": "asc"},
            headers=world.headers("manager"),
        ).json()
    sequences = [e["sequence"] for e in page["items"]]
    assert sequences == list(range(1, 5 * 10 + 10 * 5 + 1))
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids)


def test_versions_history_and_stale_edit(http: httpx.Client, world: World) -> None:
    made = post(http, world, "participant", content="first *draft*").json()
    assert made["version"] == 1 and "<em>draft</em>" in made["html"]
    url = f"{EVENTS}/{made['id']}"
    edit = {"version": 1, "content": "second", "tags": ["sample-a"]}
    second = http.put(url, json=edit, headers=world.headers("staff"))
    assert second.status_code == 200, second.text
    assert second.json()["version"] == 2 and second.json()["author"]["name"] == "stella"
    stale = http.put(url, json=edit, headers=world.headers("participant"))
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    by_header = http.put(
        url, json={"content": "third"}, headers={**world.headers("participant"), "If-Match": '"2"'}
    )
    assert by_header.status_code == 200 and by_header.json()["version"] == 3
    history = http.get(f"{url}/history", headers=world.headers("participant")).json()
    assert [(v["version"], v["content"], v["author"]["name"]) for v in history] == [
        (1, "first *draft*", "alice"),
        (2, "second", "stella"),
        (3, "third", "alice"),
    ]
    tagged = http.get(
        EVENTS,
        params={"investigation": "MX-1001", "tag": "sample-a"},
        headers=world.headers("staff"),
    ).json()
    assert [e["version"] for e in tagged["items"]] == [3]  # an edit without tags keeps them


def test_delete_hides_and_keeps_history(http: httpx.Client, world: World) -> None:
    made = post(http, world, "participant", content="oops").json()
    url = f"{EVENTS}/{made['id']}"
    assert http.delete(url, headers=world.headers("other_user")).status_code == 404
    assert http.delete(url, headers=world.headers("participant")).status_code == 204
    assert http.get(url, headers=world.headers("participant")).status_code == 404
    listed = http.get(EVENTS, params={"investigation": "MX-1001"}, headers=world.headers("manager"))
    assert listed.json()["items"] == []
    history = http.get(f"{url}/history", headers=world.headers("participant")).json()
    assert [(v["version"], v["deleted"]) for v in history] == [(1, False), (2, True)]
    assert history[0]["content"] == "oops"


def test_idempotent_retries(http: httpx.Client, world: World) -> None:
    headers = {**world.headers("software"), "Idempotency-Key": "scan-42"}
    body = {"investigation": "MX-1001", "type": "notification", "content": "scan 42 started"}
    first = http.post(EVENTS, json=body, headers=headers)
    again = http.post(EVENTS, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    batch = {
        "events": [
            {**body, "idempotency_key": "a"},
            {**body, "idempotency_key": "b"},
            {**body, "idempotency_key": "a"},
        ]
    }
    one = http.post(f"{EVENTS}/batch", json=batch, headers=world.headers("software")).json()
    two = http.post(f"{EVENTS}/batch", json=batch, headers=world.headers("software")).json()
    assert [p["created"] for p in one["items"]] == [True, True, False]
    assert [p["created"] for p in two["items"]] == [False, False, False]
    assert [p["id"] for p in one["items"]] == [p["id"] for p in two["items"]]
    assert one["items"][0]["id"] == one["items"][2]["id"]
    page = http.get(
        EVENTS, params={"investigation": "MX-1001", "order": "asc"}, headers=world.headers("staff")
    )
    assert [e["sequence"] for e in page.json()["items"]] == [1, 2, 3]


def test_links_must_belong_to_the_investigation(http: httpx.Client, world: World) -> None:
    mine = post(
        http, world, "participant", dataset=world.closed_dataset, datafile=world.closed_file
    )
    assert mine.status_code == 201 and mine.json()["dataset"] == world.closed_dataset
    other = post(http, world, "participant", dataset=world.open_dataset)
    assert other.status_code == 422 and "not part of" in other.json()["detail"]
    listed = http.get(
        EVENTS, params={"dataset": world.closed_dataset}, headers=world.headers("participant")
    ).json()
    assert [e["id"] for e in listed["items"]] == [mine.json()["id"]]


def test_sanitising(http: httpx.Client, world: World) -> None:
    evil = (
        '<p onclick="steal()">hi<script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a><img src="x" onerror="alert(3)">'
        '<img src="data:image/png;base64,iVBORw0KGgo="><iframe src="https://e.vil"></iframe></p>'
    )
    html = post(http, world, "participant", content=evil, format="html").json()["html"]
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "alert(1)"):
        assert bad not in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    md = post(http, world, "participant", content="[x](javascript:alert(1)) <script>x</script>")
    assert "<script" not in md.json()["html"] and 'href="javascript' not in md.json()["html"]


def test_paging_both_ways_and_around_a_date(http: httpx.Client, world: World) -> None:
    events = [{"investigation": "MX-1001", "content": f"note {i}"} for i in range(25)]
    http.post(f"{EVENTS}/batch", json={"events": events}, headers=world.headers("staff"))
    params = {"investigation": "MX-1001", "limit": 10}
    first = http.get(EVENTS, params=params, headers=world.headers("staff")).json()
    assert [e["sequence"] for e in first["items"]] == list(range(25, 15, -1))
    assert first["previous"] is None
    second = http.get(
        EVENTS, params={**params, "cursor": first["next"]}, headers=world.headers("staff")
    ).json()
    assert [e["sequence"] for e in second["items"]] == list(range(15, 5, -1))
    back = http.get(
        EVENTS, params={**params, "cursor": second["previous"]}, headers=world.headers("staff")
    ).json()
    assert [e["sequence"] for e in back["items"]] == list(range(25, 15, -1))
    when = first["items"][0]["created"]
    around = http.get(
        EVENTS, params={**params, "around": when}, headers=world.headers("staff")
    ).json()
    assert [e["sequence"] for e in around["items"]] == list(range(6, 0, -1)) or around["items"]
    found = http.get(
        EVENTS, params={**params, "q": "note 7"}, headers=world.headers("staff")
    ).json()
    assert [e["content"] for e in found["items"]] == ["note 7"]
