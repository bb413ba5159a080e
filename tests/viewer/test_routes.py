"""The viewer's h5grove endpoints against numpy truth, over HTTP on a live server."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import Response
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken
from fairbeam.access.security import token_digest
from fairbeam.config import Settings
from fairbeam.db import make_sessionmaker
from fairbeam.viewer.routes import FileRequest
from tests.viewer import files
from tests.viewer.files import Files, get, ok
from tests.world import World

# Metadata


def test_meta_of_a_group_lists_its_members(http: httpx.Client, h5: Files) -> None:
    meta = ok(get(http, h5, "meta", path="/entry"))
    assert (meta["name"], meta["kind"]) == ("entry", "group")
    assert [a["name"] for a in meta["attributes"]] == ["NX_class", "label", "numbers", "ratio"]
    numbers = next(a for a in meta["attributes"] if a["name"] == "numbers")
    assert numbers["shape"] == [3] and numbers["type"]["dtype"] == "<i8"
    kinds = {child["name"]: child["kind"] for child in meta["children"]}
    assert kinds["stack"] == kinds["line"] == kinds["scalar"] == "dataset"
    assert kinds["data"] == "group"
    # Valid links are resolved, broken or forbidden ones are described as links.
    assert kinds["external"] == "dataset"
    assert kinds["broken"] == "soft_link"
    assert kinds["outside"] == "external_link"
    data = next(child for child in meta["children"] if child["name"] == "data")
    assert "children" not in data
    root = ok(get(http, h5, "meta"))
    assert (root["name"], [c["name"] for c in root["children"]]) == ("", ["entry"])


def test_meta_of_a_dataset_gives_shape_type_chunks_and_filters(
    http: httpx.Client, h5: Files
) -> None:
    meta = ok(get(http, h5, "meta", path="/entry/stack"))
    assert meta == {
        "attributes": [
            {
                "name": "units",
                "shape": [],
                "type": {
                    "class": 3,
                    "cset": 1,
                    "dtype": "|O",
                    "size": 8,
                    "strpad": 0,
                    "vlen": True,
                },
            }
        ],
        "chunks": [1, 32, 24],
        "filters": [{"id": 1, "name": "deflate"}],
        "kind": "dataset",
        "name": "stack",
        "shape": [6, 32, 24],
        "type": {"class": 0, "dtype": "<u2", "order": 0, "sign": 0, "size": 2},
    }
    assert list(meta) == sorted(meta)
    scalar = ok(get(http, h5, "meta", path="/entry/scalar"))
    assert (scalar["shape"], scalar["chunks"], scalar["filters"]) == ([], None, None)
    assert scalar["type"] == {"class": 1, "dtype": "<f8", "order": 0, "size": 8}
    title = ok(get(http, h5, "meta", path="/entry/title"))
    assert title["type"]["class"] == 3 and title["type"]["vlen"] is True
    fixed = ok(get(http, h5, "meta", path="/entry/fixed"))
    assert fixed["type"]["dtype"] == "|S2" and fixed["type"]["vlen"] is False


def test_meta_follows_links_as_asked(http: httpx.Client, h5: Files) -> None:
    linked = ok(get(http, h5, "meta", path="/entry/data/data"))
    assert (linked["name"], linked["kind"], linked["shape"]) == ("data", "dataset", [6, 32, 24])
    unresolved = ok(get(http, h5, "meta", path="/entry/data/data", resolve_links="none"))
    assert unresolved == {"kind": "soft_link", "name": "data", "target_path": "/entry/stack"}
    external = ok(get(http, h5, "meta", path="/entry/external"))
    assert (external["kind"], external["shape"]) == ("dataset", [7])
    outside = ok(get(http, h5, "meta", path="/entry/outside"))
    assert outside["kind"] == "external_link" and outside["target_path"] == "/values"
    broken = get(http, h5, "meta", path="/entry/broken", resolve_links="all")
    assert broken.status_code == 404 and "Cannot resolve" in broken.json()["detail"]
    assert get(http, h5, "meta", path="/entry", resolve_links="some").status_code == 422


def test_attr_gives_values(http: httpx.Client, h5: Files) -> None:
    attrs = ok(get(http, h5, "attr", path="/entry"))
    assert attrs == {
        "NX_class": "NXentry",
        "numbers": [1, 2, 3],
        "ratio": 0.25,
        "label": "bytes label",
    }
    only = ok(http.get(h5.url("attr"), params=[("path", "/entry"), ("attr_keys", "ratio")]))
    assert only == {"ratio": 0.25}
    assert ok(get(http, h5, "attr", path="/")) == {"default": "entry"}
    missing = http.get(h5.url("attr"), params=[("path", "/entry"), ("attr_keys", "nope")])
    assert missing.status_code == 422 and "nope" in missing.json()["detail"]


# Values


@pytest.mark.parametrize(
    ("path", "truth"),
    [
        ("/entry/line", files.LINE),
        ("/entry/image", files.IMAGE),
        ("/entry/stack", files.STACK),
        ("/entry/scalar", np.float64(12.5)),
        ("/entry/external", files.OTHER),
        ("/entry/data/data", files.STACK),
    ],
)
def test_data_as_json(http: httpx.Client, h5: Files, path: str, truth: Any) -> None:
    got = ok(get(http, h5, "data", path=path))
    expected = np.where(np.isnan(truth), None, truth).tolist() if truth.dtype.kind == "f" else truth
    assert got == (expected.tolist() if isinstance(expected, np.ndarray) else expected)
    flat = ok(get(http, h5, "data", path=path, flatten="true"))
    assert np.array(flat, dtype=float).size == np.size(truth)


def test_strings_as_json(http: httpx.Client, h5: Files) -> None:
    assert ok(get(http, h5, "data", path="/entry/title")) == "lysozyme 100K"
    assert ok(get(http, h5, "data", path="/entry/names", flatten="true")) == files.NAMES
    assert ok(get(http, h5, "data", path="/entry/fixed")) == ["ab", "cd"]
    refused = get(http, h5, "data", path="/entry/names", format="bin", dtype="safe")
    assert refused.status_code == 422 and "numeric" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("path", "truth"),
    [
        ("/entry/line", files.LINE),
        ("/entry/image", files.IMAGE),
        ("/entry/stack", files.STACK),
        ("/entry/stack_bitshuffle", files.STACK),
        ("/entry/scalar", np.float64(12.5)),
        ("/entry/half", files.HALF),
        ("/entry/stack_big", files.STACK.astype(">u2")),
    ],
)
@pytest.mark.parametrize("dtype", ["origin", "safe"])
def test_data_as_binary(http: httpx.Client, h5: Files, path: str, truth: Any, dtype: str) -> None:
    response = get(http, h5, "data", path=path, format="bin", dtype=dtype)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    expected = np.asarray(truth)
    if dtype == "safe":
        expected = expected.astype(
            "<f4"
            if expected.dtype.kind == "f" and expected.itemsize < 4
            else expected.dtype.newbyteorder("<")
        )
    assert response.content == expected.tobytes()


def test_data_as_npy_and_csv(http: httpx.Client, h5: Files) -> None:
    npy = get(http, h5, "data", path="/entry/image", format="npy")
    assert npy.status_code == 200
    assert "data.npy" in npy.headers["content-disposition"]
    loaded = np.load(io.BytesIO(npy.content))
    assert loaded.dtype == files.IMAGE.dtype and np.array_equal(loaded, files.IMAGE)
    frame = np.load(
        io.BytesIO(get(http, h5, "data", path="/entry/stack", selection="2", format="npy").content)
    )
    assert np.array_equal(frame, files.STACK[2])
    csv = get(http, h5, "data", path="/entry/image", format="csv", selection="0:3")
    assert csv.headers["content-type"].startswith("text/csv")
    assert np.array_equal(np.loadtxt(io.StringIO(csv.text), delimiter=","), files.IMAGE[0:3])
    assert get(http, h5, "data", path="/entry/stack", format="csv").status_code == 422
    assert get(http, h5, "data", path="/entry/title", format="npy").status_code == 422


@pytest.mark.parametrize(
    ("selection", "index"),
    [
        ("0", (0,)),
        ("0,:,:", (0, slice(None), slice(None))),
        ("5:10", (slice(5, 10),)),
        ("::2", (slice(None, None, 2),)),
        ("-1", (-1,)),
        ("2, 10:20, ::3", (2, slice(10, 20), slice(None, None, 3))),
        (":,3,4", (slice(None), 3, 4)),
        ("1:100", (slice(1, 100),)),
    ],
)
def test_selections(http: httpx.Client, h5: Files, selection: str, index: tuple[Any, ...]) -> None:
    for fmt in ("bin", "json"):
        response = get(
            http, h5, "data", path="/entry/stack", selection=selection, format=fmt, dtype="safe"
        )
        assert response.status_code == 200, response.text
        expected = files.STACK[index]
        if fmt == "bin":
            assert response.content == expected.tobytes()
        else:
            assert response.json() == expected.tolist()


# Paths and statistics


def test_paths_lists_everything_under_a_group(http: httpx.Client, h5: Files) -> None:
    found = ok(get(http, h5, "paths"))
    assert found[0] == "/" and "/entry/stack" in found and "/entry/data/data" in found
    assert ok(get(http, h5, "paths", path="/entry/data")) == ["/entry/data", "/entry/data/data"]


def test_stats_of_a_selection(http: httpx.Client, h5: Files) -> None:
    got = ok(get(http, h5, "stats", path="/entry/line"))
    finite = files.LINE[np.isfinite(files.LINE)]
    assert got["min"] == finite.min() and got["max"] == finite.max()
    assert got["mean"] == pytest.approx(finite.mean())
    assert got["strict_positive_min"] == finite[finite > 0].min()
    frame = ok(get(http, h5, "stats", path="/entry/stack", selection="1"))
    assert (frame["min"], frame["max"]) == (int(files.STACK[1].min()), int(files.STACK[1].max()))


# Errors


@pytest.mark.parametrize(
    ("endpoint", "params", "status", "words"),
    [
        ("meta", {"path": "/entry/nothing"}, 404, "not a valid path"),
        ("meta", {"path": "/entry/line/below"}, 404, "not a group"),
        ("attr", {"path": "/nothing"}, 404, "not a valid path"),
        ("data", {"path": "/nothing"}, 404, "not a valid path"),
        ("data", {"path": "/entry"}, 422, "not a dataset"),
        ("data", {"path": "/entry/stack", "selection": "a"}, 422, "selection"),
        ("data", {"path": "/entry/stack", "selection": "1:2:3:4"}, 422, "selection"),
        ("data", {"path": "/entry/stack", "selection": "0,0,0,0"}, 422, "3 dimensions"),
        ("data", {"path": "/entry/stack", "selection": "6"}, 422, "outside 0..5"),
        ("data", {"path": "/entry/stack", "selection": "::-1"}, 422, "step"),
        ("data", {"path": "/entry/stack", "selection": "1,,2"}, 422, "empty member"),
        ("data", {"path": "/entry/stack", "format": "tiff"}, 422, "format"),
        ("data", {"path": "/entry/stack", "dtype": "small"}, 422, "dtype"),
        ("data", {"path": "/entry/outside"}, 404, "Cannot resolve"),
        ("data", {"path": "/entry/virtual_outside"}, 404, "outside the folders"),
        ("stats", {"path": "/entry/title"}, 422, "statistics"),
        ("paths", {"path": "/entry/stack"}, 422, "not a group"),
    ],
)
def test_errors_say_what_is_wrong(
    http: httpx.Client, h5: Files, endpoint: str, params: dict[str, str], status: int, words: str
) -> None:
    response = get(http, h5, endpoint, **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and words in body["detail"]


def test_a_file_that_is_not_hdf5(http: httpx.Client, h5: Files) -> None:
    response = get(http, h5, "meta", file_id=h5.notes)
    assert response.status_code == 422
    assert "notes.txt is not an HDF5 file" in response.json()["detail"]


def test_a_changed_file_is_reopened(http: httpx.Client, h5: Files) -> None:
    assert ok(get(http, h5, "data", path="/entry/scalar")) == 12.5
    # Written by another process, as acquisition or processing would.
    code = "import h5py, sys; h5py.File(sys.argv[1], 'a')['entry/scalar'][()] = 99.0"
    subprocess.run([sys.executable, "-c", code, str(h5.path)], check=True, timeout=60)
    os.utime(h5.path, ns=(1, 1))  # a new modification time, even within the clock's tick
    assert ok(get(http, h5, "data", path="/entry/scalar")) == 99.0


def test_slashless_paths_answer_too(http: httpx.Client, h5: Files) -> None:
    for endpoint in ("meta", "attr", "paths"):
        response = http.get(f"/api/files/{h5.sample}/h5/{endpoint}", params={"path": "/entry"})
        assert response.status_code == 200, (endpoint, response.text)
    data = http.get(f"/api/files/{h5.sample}/h5/data", params={"path": "/entry/scalar"})
    assert data.json() == 12.5


# Access


VIEWERS_OF_CLOSED = {"participant", "staff", "manager", "software"}


@pytest.mark.parametrize("endpoint", ["meta", "attr", "data", "paths", "stats"])
def test_each_role_sees_what_the_access_rules_allow(
    http: httpx.Client, h5: Files, world: World, endpoint: str
) -> None:
    path = "/entry/line" if endpoint in ("data", "stats") else "/entry"
    for role in world.tokens:
        headers = world.headers(role)
        closed = get(http, h5, endpoint, path=path, file_id=h5.closed_sample, headers=headers)
        opened = get(http, h5, endpoint, path=path, headers=headers)
        assert opened.status_code == 200, (role, opened.text)
        expected = 200 if role in VIEWERS_OF_CLOSED else 404
        assert closed.status_code == expected, (role, closed.text)
        if expected == 404:
            assert closed.json() == {"detail": f"file {h5.closed_sample} not found"}
        else:
            assert closed.content == opened.content
    missing = http.get(f"/api/files/999999/h5/{endpoint}/")
    assert missing.status_code == 404


def test_a_revoked_token_is_refused_at_once_though_its_file_was_found(
    http: httpx.Client, h5: Files, world: World, session: Session
) -> None:
    # The viewer remembers where a caller's file is for a few seconds; never the token.
    headers = world.headers("participant")
    for _ in range(2):
        found = get(http, h5, "meta", path="/entry", file_id=h5.closed_sample, headers=headers)
        assert found.status_code == 200
    digest = token_digest(world.tokens["participant"] or "")
    session.execute(update(ApiToken).where(ApiToken.token_hash == digest).values(revoked=True))
    session.commit()
    refused = get(http, h5, "meta", path="/entry", file_id=h5.closed_sample, headers=headers)
    assert refused.status_code == 401


def test_quick_work_on_an_open_file_is_done_without_crossing_to_a_thread(
    engine: Engine, settings: Settings, h5: Files, world: World
) -> None:
    asked = FileRequest(
        h5.sample, engine, make_sessionmaker(engine), settings, world.tokens["participant"]
    )
    threads: list[str] = []

    def work(_: Any) -> Response:
        threads.append(threading.current_thread().name)
        return Response(b"{}")

    async def requests() -> None:
        await asked.answer(work, quick=True)  # found through the access rules and opened
        await asked.answer(work, quick=True)  # open now: read right away
        await asked.answer(work)  # a frame or statistics: always on a thread

    asyncio.run(requests())
    loop_thread = threading.current_thread().name
    assert [name == loop_thread for name in threads] == [False, True, False]
    assert all(name.startswith("fairbeam-viewer") for name in (threads[0], threads[2]))
