"""GET /api/files/{id}/content: every range shape byte for byte, validators, conditions."""

from __future__ import annotations

import email.parser
import email.policy

import httpx
import pytest

from tests.transfer.conftest import Data
from tests.world import World

PATH = "scan.h5"


def content(http: httpx.Client, world: World, file_id: int, **headers: str) -> httpx.Response:
    """The content of a file as the participant asks for it."""
    return http.get(
        f"/api/files/{file_id}/content", headers={**world.headers("participant"), **headers}
    )


def test_whole_file_with_validators(http: httpx.Client, world: World, data: Data) -> None:
    response = content(http, world, data.open.files[PATH])
    assert response.status_code == 200
    assert response.content == data.open.bytes_of(PATH)
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["x-checksum"].startswith("xxh3:")


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=10-99", 10, 100),
        ("bytes=299990-", 299_990, 300_001),
        ("bytes=-17", 300_001 - 17, 300_001),
        ("bytes=-999999", 0, 300_001),
        ("bytes=100-999999999", 100, 300_001),
        ("bytes=300000-300000", 300_000, 300_001),
    ],
)
def test_single_ranges(
    http: httpx.Client, world: World, data: Data, header: str, start: int, stop: int
) -> None:
    whole = data.open.bytes_of(PATH)
    response = content(http, world, data.open.files[PATH], range=header)
    assert response.status_code == 206
    assert response.content == whole[start:stop]
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(whole)}"
    assert response.headers["content-length"] == str(stop - start)


def parts_of(response: httpx.Response) -> list[tuple[str, bytes]]:
    """(Content-Range, bytes) of each part of a multipart/byteranges answer."""
    head = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + response.content)
    return [(part["content-range"], part.get_payload(decode=True)) for part in message.iter_parts()]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9,20-29", [(0, 10), (20, 30)]),
        ("bytes=-5, 0-2, 1000-1999", [(0, 3), (1000, 2000), (300_001 - 5, 300_001)]),
        ("bytes=0-99,50-149,400-499", [(0, 150), (400, 500)]),  # overlaps are merged
        ("bytes=0-9,999999-", [(0, 10)]),  # an unsatisfiable range among others is dropped
    ],
)
def test_several_ranges(
    http: httpx.Client, world: World, data: Data, header: str, expected: list[tuple[int, int]]
) -> None:
    whole = data.open.bytes_of(PATH)
    response = content(http, world, data.open.files[PATH], range=header)
    assert response.status_code == 206
    assert response.headers["content-length"] == str(len(response.content))
    if len(expected) == 1:
        ((start, stop),) = expected
        assert response.content == whole[start:stop]
        return
    assert response.headers["content-type"].startswith("multipart/byteranges; boundary=")
    got = parts_of(response)
    assert [r for r, _ in got] == [f"bytes {a}-{b - 1}/{len(whole)}" for a, b in expected]
    assert [body for _, body in got] == [whole[a:b] for a, b in expected]


@pytest.mark.parametrize("header", ["bytes=300001-", "bytes=400000-500000", "bytes=-0"])
def test_unsatisfiable_range_is_416(
    http: httpx.Client, world: World, data: Data, header: str
) -> None:
    response = content(http, world, data.open.files[PATH], range=header)
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */300001"
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-5", "bytes=a-b", "bytes=,"])
def test_malformed_range_is_ignored(
    http: httpx.Client, world: World, data: Data, header: str
) -> None:
    response = content(http, world, data.open.files[PATH], range=header)
    assert response.status_code == 200
    assert response.content == data.open.bytes_of(PATH)


def test_empty_file(http: httpx.Client, world: World, data: Data) -> None:
    response = content(http, world, data.open.files["empty.dat"])
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == "0"
    assert content(http, world, data.open.files["empty.dat"], range="bytes=0-").status_code == 416


def test_conditional_requests(http: httpx.Client, world: World, data: Data) -> None:
    file_id = data.open.files[PATH]
    first = content(http, world, file_id)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = content(http, world, file_id, **{"if-none-match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    assert content(http, world, file_id, **{"if-none-match": '"other", ' + etag}).status_code == 304
    assert content(http, world, file_id, **{"if-none-match": '"other"'}).status_code == 200
    # If-Range: the range when the validator holds, the whole file when it does not.
    for validator in (etag, modified):
        ranged = content(http, world, file_id, range="bytes=0-9", **{"if-range": validator})
        assert (ranged.status_code, len(ranged.content)) == (206, 10)
    stale = content(http, world, file_id, range="bytes=0-9", **{"if-range": '"stale"'})
    assert (stale.status_code, len(stale.content)) == (200, 300_001)


def test_etag_changes_with_the_bytes(http: httpx.Client, world: World, data: Data) -> None:
    file_id = data.open.files["notes.txt"]
    before = content(http, world, file_id).headers["etag"]
    (data.open.folder / "notes.txt").write_bytes(b"changed")
    after = content(http, world, file_id)
    assert after.headers["etag"] != before and after.content == b"changed"
