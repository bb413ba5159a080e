"""A frame that is one whole deflate chunk goes out as stored; everything else is read."""

from __future__ import annotations

import io
import zlib
from typing import Any

import h5py
import httpx
import numpy as np
import pytest

from tests.viewer import files
from tests.viewer.files import DEFLATE, Files

# The deflate chunk sent as stored


def stored_chunk(h5: Files, path: str, offset: tuple[int, ...]) -> bytes:
    with h5py.File(h5.path, "r", locking=False) as f:
        mask, chunk = f[path].id.read_direct_chunk(offset)
    assert mask == 0
    return bytes(chunk)


@pytest.mark.parametrize("selection", ["3", "3,:,:", "3:4", "3,0:32,0:24"])
def test_a_whole_deflate_chunk_goes_out_compressed(
    http: httpx.Client, h5: Files, selection: str
) -> None:
    params = {"path": "/entry/stack", "selection": selection, "format": "bin", "dtype": "safe"}
    with http.stream("GET", h5.url("data"), params=params, headers=DEFLATE) as response:
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "deflate"
    assert "Accept-Encoding" in response.headers["vary"]
    assert raw == stored_chunk(h5, "/entry/stack", (3, 0, 0))
    assert zlib.decompress(raw) == files.STACK[3].tobytes()
    decoded = http.get(h5.url("data"), params=params, headers=DEFLATE)
    assert decoded.content == files.STACK[3].tobytes()
    origin = http.get(h5.url("data"), params={**params, "dtype": "origin"}, headers=DEFLATE)
    assert origin.headers["content-encoding"] == "deflate"
    assert origin.content == files.STACK[3].tobytes()


def test_the_whole_dataset_in_one_chunk_goes_out_compressed(http: httpx.Client, h5: Files) -> None:
    params = {"path": "/entry/stack", "selection": "0:1", "format": "bin"}
    response = http.get(h5.url("data"), params=params, headers=DEFLATE)
    assert response.headers["content-encoding"] == "deflate"
    assert response.content == files.STACK[0:1].tobytes()


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"Accept-Encoding": "gzip, br"}, {}),
        ({"Accept-Encoding": "deflate;q=0, gzip"}, {}),
        ({"Accept-Encoding": "identity"}, {}),
        (DEFLATE, {"path": "/entry/stack_shuffle"}),
        (DEFLATE, {"path": "/entry/stack_rows"}),
        (DEFLATE, {"path": "/entry/stack_bitshuffle"}),
        (DEFLATE, {"path": "/entry/stack_big"}),
        (DEFLATE, {"selection": "3,0:16,:"}),
        (DEFLATE, {"selection": "3,:,::2"}),
        (DEFLATE, {"selection": "2:4"}),
        (DEFLATE, {"format": "npy"}),
    ],
    ids=str,
)
def test_other_requests_are_read_and_sent_plain(
    http: httpx.Client, h5: Files, headers: dict[str, str], params: dict[str, str]
) -> None:
    query = {"path": "/entry/stack", "selection": "3", "format": "bin", "dtype": "safe", **params}
    response = http.get(h5.url("data"), params=query, headers=headers)
    assert response.status_code == 200, response.text
    assert "content-encoding" not in response.headers
    expected = files.STACK[parse(query["selection"])]
    if query["format"] == "npy":
        assert np.array_equal(np.load(io.BytesIO(response.content)), expected)
    else:
        assert response.content == expected.astype("<u2").tobytes()


def parse(selection: str) -> tuple[Any, ...]:
    """The numpy index of a selection text (for the tests' truth)."""
    members: list[Any] = []
    for part in selection.split(","):
        if ":" in part:
            members.append(slice(*(int(p) if p.strip() else None for p in part.split(":"))))
        else:
            members.append(int(part))
    return tuple(members)


def test_edge_and_unwritten_chunks_are_read(http: httpx.Client, h5: Files) -> None:
    edge = http.get(
        h5.url("data"),
        params={"path": "/entry/partial", "selection": "64:100,64:70", "format": "bin"},
        headers=DEFLATE,
    )
    assert "content-encoding" not in edge.headers
    assert edge.content == files.PARTIAL[64:100, 64:70].tobytes()
    whole = http.get(
        h5.url("data"),
        params={"path": "/entry/partial", "selection": "0:64,0:64", "format": "bin"},
        headers=DEFLATE,
    )
    assert whole.headers["content-encoding"] == "deflate"
    assert whole.content == files.PARTIAL[0:64, 0:64].tobytes()
    unwritten = http.get(
        h5.url("data"),
        params={"path": "/entry/unwritten", "selection": "1", "format": "bin"},
        headers=DEFLATE,
    )
    assert "content-encoding" not in unwritten.headers
    assert unwritten.content == np.zeros((8, 8), "u2").tobytes()
