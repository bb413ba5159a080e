"""The same bytes through `fairbeam serve`'s protocol, where file slices leave by sendfile."""

from __future__ import annotations

import io
import zipfile

import httpx

from tests.transfer.conftest import SIZES, Data
from tests.transfer.test_content import parts_of
from tests.world import World


def test_content_and_ranges_by_sendfile(
    zerocopy_http: httpx.Client, world: World, data: Data
) -> None:
    headers = world.headers("participant")
    url = f"/api/files/{data.open.files['scan.h5']}/content"
    whole = data.open.bytes_of("scan.h5")
    assert zerocopy_http.get(url, headers=headers).content == whole
    one = zerocopy_http.get(url, headers={**headers, "range": "bytes=-1000"})
    assert (one.status_code, one.content) == (206, whole[-1000:])
    several = zerocopy_http.get(url, headers={**headers, "range": "bytes=0-9,100-199"})
    assert [body for _, body in parts_of(several)] == [whole[:10], whole[100:200]]
    empty = zerocopy_http.get(f"/api/files/{data.open.files['empty.dat']}/content", headers=headers)
    assert (empty.status_code, empty.content) == (200, b"")
    # The connection stays usable after a sendfile body.
    assert zerocopy_http.get(url, headers=headers).content == whole


def test_zip_by_the_same_server(zerocopy_http: httpx.Client, world: World, data: Data) -> None:
    response = zerocopy_http.get(
        f"/api/datasets/{data.open.dataset}/archive.zip", headers=world.headers("manager")
    )
    opened = zipfile.ZipFile(io.BytesIO(response.content))
    assert opened.testzip() is None
    assert {name: len(opened.read(f"open_scan/{name}")) for name in SIZES} == SIZES
