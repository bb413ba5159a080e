"""Bad input answers a clear 4xx whose JSON `detail` names what is wrong; never a 500."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetParameter,
    Instrument,
    Investigation,
    Participant,
    Sample,
)
from tests.world import World

DATASET = {
    "investigation": "MX-1001",
    "name": "scan_0001",
    "location": "/data/visitor/MX-1001/scan_0001",
    "files": [{"path": "scan_0001.h5", "size": 10}],
}
INVESTIGATION = {
    "code": "MX-2000",
    "title": "A new proposal",
    "instrument": "ID23",
    "start": "2025-01-01T08:00:00Z",
    "end": "2025-01-03T08:00:00Z",
}
JSON_BODY = {"Content-Type": "application/json"}


def cursor_of(value: Any) -> str:
    """A cursor as the server encodes them, holding ``value``."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def raw_json(value: Any) -> bytes:
    """JSON as Python writes it, NaN and Infinity included."""
    return json.dumps(value).encode()


@dataclass(frozen=True)
class BadInput:
    """A request with one thing wrong, the status it gets and words its detail holds."""

    name: str
    method: str
    url: str
    status: int
    says: tuple[str, ...]
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    role: str = "manager"


def bad(name: str, method: str, url: str, status: int, says: str, **request: Any) -> BadInput:
    """A request to ``url``; ``says`` lists words of the detail, split by spaces."""
    return BadInput(name, method, url, status, tuple(says.split()), **request)


def post_dataset(label: str, /, status: int, says: str, **changes: Any) -> BadInput:
    """A registration with ``changes`` (a value of None removes the field)."""
    body = {k: v for k, v in {**DATASET, **changes}.items() if v is not None}
    return bad(label, "POST", "/api/datasets", status, says, json=body)


def post_investigation(label: str, /, status: int, says: str, **changes: Any) -> BadInput:
    """A new investigation with ``changes`` (a value of None removes the field)."""
    body = {k: v for k, v in {**INVESTIGATION, **changes}.items() if v is not None}
    return bad(label, "POST", "/api/investigations", status, says, json=body)


def query(name: str, url: str, status: int, says: str, **params: Any) -> BadInput:
    """An anonymous GET of ``url`` with query ``params``."""
    return bad(name, "GET", url, status, says, params=params, role="anonymous")


def login(name: str, status: int, says: str, body: Any) -> BadInput:
    return bad(name, "POST", "/api/auth/login", status, says, json=body)


def token(name: str, header: str, says: str = "Bearer") -> BadInput:
    return bad(
        name, "GET", "/api/me", 401, says, headers={"Authorization": header}, role="anonymous"
    )


FILES = "/api/datasets/{closed_dataset}/files"
NAN = raw_json({**DATASET, "parameters": {"energy": float("nan")}})
INF = raw_json({**DATASET, "parameters": {"energy": {"value": float("inf"), "unit": "keV"}}})
BAD_INPUTS = [
    # The body is not JSON, or not the JSON asked for.
    bad("malformed json", "POST", "/api/datasets", 422, "JSON", content=b"{", headers=JSON_BODY),
    bad("empty body", "POST", "/api/datasets", 422, "body", content=b"", headers=JSON_BODY),
    bad("json list", "POST", "/api/datasets", 422, "object", json=[DATASET]),
    bad("NaN", "POST", "/api/datasets", 422, "parameters finite", content=NAN, headers=JSON_BODY),
    bad("infinity", "POST", "/api/datasets", 422, "parameters", content=INF, headers=JSON_BODY),
    # Missing fields, wrong types, unknown fields, text no database holds.
    post_dataset("missing fields", 422, "investigation name location", **dict.fromkeys(DATASET)),
    post_dataset("missing location", 422, "location", location=None),
    post_dataset("name wrong type", 422, "name", name=12),
    post_dataset("files not a list", 422, "files", files="a.h5"),
    post_dataset("size not a number", 422, "files.0.size", files=[{"path": "a", "size": "big"}]),
    post_dataset("inputs not ids", 422, "inputs.0", inputs=["first"]),
    post_dataset("unknown field", 422, "colour", colour="red"),
    post_dataset("unknown file field", 422, "files.0.md5", files=[{"path": "a", "md5": "x"}]),
    post_dataset("nul in name", 422, "name NUL", name="scan\x00"),
    post_dataset("nul in location", 422, "location NUL", location="/data/\x00"),
    post_dataset("nul in path", 422, "files.0.path NUL", files=[{"path": "a\x00b"}]),
    post_dataset(
        "nul in checksum", 422, "files.0.checksum NUL", files=[{"path": "a", "checksum": "x\x00"}]
    ),
    post_dataset("nul in parameter", 422, "parameters NUL", parameters={"note": "a\x00b"}),
    post_dataset("nul in parameter name", 422, "parameters NUL", parameters={"no\x00te": 1}),
    post_dataset("nul in sample", 422, "sample NUL", sample={"name": "lyso\x00"}),
    post_investigation("unknown investigation field", 422, "pi", pi="alice"),
    post_investigation("missing title", 422, "title", title=None),
    post_investigation("nul in title", 422, "title NUL", title="A\x00"),
    bad("batch empty", "POST", "/api/datasets/batch", 422, "datasets", json={"datasets": []}),
    bad(
        "batch item wrong",
        "POST",
        "/api/datasets/batch",
        422,
        "datasets.1.name",
        json={"datasets": [DATASET, {**DATASET, "name": ""}]},
    ),
    bad("instrument name", "POST", "/api/instruments", 422, "name", json={"name": "ID 30 (new)"}),
    # Enumerations.
    post_dataset("bad dataset type", 422, "type raw processed", type="cooked"),
    post_investigation(
        "bad participant role",
        422,
        "participants.0.role principal_investigator",
        participants=[{"username": "alice", "role": "boss"}],
    ),
    query("bad type filter", "/api/datasets", 422, "type raw processed", type="cooked"),
    bad("bad stats period", "GET", "/api/stats", 422, "since 7d", params={"since": "ever"}),
    # Dates.
    post_dataset("bad start", 422, "start", start="yesterday"),
    post_investigation("bad end", 422, "end", end="2025-13-01"),
    post_dataset("year 0", 422, "start", start="0000-01-01T00:00:00Z"),
    post_dataset("before year 1 in UTC", 422, "start UTC", start="0001-01-01T00:00:00+05:00"),
    post_investigation("after 9999 in UTC", 422, "end UTC", end="9999-12-31T23:00:00-05:00"),
    post_investigation(
        "end before start, naive and aware",
        422,
        "end before start",
        start="2025-01-02T00:00:00",
        end="2025-01-01T00:00:00+00:00",
    ),
    post_dataset(
        "dataset end before start",
        422,
        "end before start",
        start="2025-01-02T00:00:00Z",
        end="2025-01-01T00:00:00Z",
    ),
    post_investigation("end before start", 422, "end before start", end="2024-12-31T00:00:00Z"),
    query("bad start_after", "/api/datasets", 422, "start_after", start_after="soon"),
    query(
        "start_after in UTC",
        "/api/datasets",
        422,
        "start_after UTC",
        start_after="0001-01-01T00:00+01:00",
    ),
    query(
        "bad start_before", "/api/investigations", 422, "start_before", start_before="2025-02-30"
    ),
    # Sizes and files.
    post_dataset("negative size", 422, "files.0.size", files=[{"path": "a", "size": -1}]),
    post_dataset("size too large", 422, "files.0.size", files=[{"path": "a", "size": 2**70}]),
    post_dataset(
        "duplicate paths", 422, "files a.h5 twice", files=[{"path": "a.h5"}, {"path": "a.h5"}]
    ),
    bad(
        "duplicate location in batch",
        "POST",
        "/api/datasets/batch",
        422,
        "location twice",
        json={"datasets": [DATASET, DATASET]},
    ),
    # Parameter conditions.
    query(
        "condition without operator", "/api/datasets", 422, "param wavelength", param="wavelength"
    ),
    query("condition without value", "/api/datasets", 422, "param", param="wavelength <"),
    query("comparing text", "/api/datasets", 422, "param number", param="wavelength < short"),
    query(
        "bad condition of two",
        "/api/datasets/facets",
        422,
        "param energy",
        param=["wavelength < 1 nm", "energy >"],
    ),
    # Lists: sort, scope, cursor, limit, text.
    query("unknown dataset sort", "/api/datasets", 422, "sort colour -start", sort="colour"),
    query("unknown investigation sort", "/api/investigations", 422, "sort title", sort="title"),
    query("bad scope", "/api/investigations", 422, "scope everything mine", scope="everything"),
    query("cursor not base64", "/api/datasets", 422, "cursor", cursor="!!!"),
    query("cursor not json", "/api/investigations", 422, "cursor", cursor="bm90IGpzb24"),
    query("cursor wrong size", "/api/datasets", 422, "cursor", cursor=cursor_of([1])),
    query("cursor wrong types", "/api/datasets", 422, "cursor", cursor=cursor_of(["monday", 1])),
    query("cursor nested", "/api/investigations", 422, "cursor", cursor=cursor_of([[1], {"a": 1}])),
    query("cursor bad date", "/api/datasets", 422, "cursor", cursor=cursor_of([{"t": "x"}, 1])),
    query("cursor of nulls", "/api/instruments", 422, "cursor", cursor=cursor_of([None, None])),
    query("cursor holding NUL", "/api/instruments", 422, "cursor", cursor=cursor_of(["\x00", 1])),
    bad("cursor of files", "GET", FILES, 422, "cursor", params={"cursor": cursor_of([1, 2])}),
    query("limit 0", "/api/datasets", 422, "limit", limit=0),
    query("limit 1001", "/api/investigations", 422, "limit 1000", limit=1001),
    bad("limit of files", "GET", FILES, 422, "limit", params={"limit": 1001}),
    query("limit not a number", "/api/instruments", 422, "limit", limit="all"),
    query("oversized q", "/api/datasets", 422, "q", q="x" * 501),
    query("too many words", "/api/datasets/facets", 422, "q words", q=" ".join(["word"] * 13)),
    query("nul in q", "/api/investigations", 422, "NUL", q="a\x00b"),
    query("nul in a filter", "/api/datasets", 422, "NUL", sample="a\x00b"),
    query("nul in an HDF5 path", "/api/files/1/h5/meta/", 422, "NUL", path="/a\x00b"),
    query("nul in an attribute name", "/api/files/1/h5/attr/", 422, "NUL", attr_keys="a\x00"),
    # Ids in paths.
    query("dataset id not a number", "/api/datasets/first", 422, "dataset_id"),
    query("dataset id negative", "/api/datasets/-1", 422, "dataset_id"),
    query("file id not a number", "/api/files/first", 422, "file_id"),
    query("dataset id too large", "/api/datasets/99999999999999999999", 422, "dataset_id"),
    query("file id too large", "/api/files/99999999999999999999", 422, "file_id"),
    query("files of a huge id", "/api/datasets/99999999999999999999/files", 422, "dataset_id"),
    query("investigation too large", "/api/investigations/99999999999999999999", 404, "not found"),
    query("investigation of 5000 digits", "/api/investigations/" + "9" * 5000, 404, "not found"),
    query("investigation filter too large", "/api/datasets", 200, "", investigation="9" * 5000),
    query("nul in path", "/api/investigations/MX%00", 422, "NUL"),
    query("no such path", "/api/nothing-here", 404, "path"),
    bad("method not allowed", "DELETE", "/api/datasets", 405, "Method"),
    # What a request names must exist.
    post_dataset("unknown investigation", 422, "investigation NO-SUCH", investigation="NO-SUCH"),
    post_dataset("unknown instrument", 422, "BM99", investigation="NO-SUCH", instrument="BM99"),
    post_dataset(
        "investigation on another instrument", 422, "MX-1001 ID23 ID11", instrument="ID11"
    ),
    post_dataset("unknown input dataset", 422, "input 999999", inputs=[999999]),
    post_investigation("unknown instrument of investigation", 422, "BM99", instrument="BM99"),
    post_investigation(
        "unknown participant",
        422,
        "participant nobody",
        participants=[{"username": "nobody", "role": "collaborator"}],
    ),
    post_investigation("existing investigation", 409, "MX-1001 exists", code="MX-1001"),
    bad("existing instrument", "POST", "/api/instruments", 409, "ID23", json={"name": "ID23"}),
    query("unknown instrument filter", "/api/datasets", 404, "instrument BM99", instrument="BM99"),
    query("unknown instrument facet", "/api/datasets/facets", 404, "BM99", instrument="BM99"),
    query("unknown instrument list", "/api/investigations", 404, "BM99", instrument="BM99"),
    # Tokens.
    token("unknown token", "Bearer fb_nonsense", says="token"),
    token("basic auth", "Basic YWxpY2U6cHc="),
    token("bearer without token", "Bearer"),
    token("token without scheme", "fb_nonsense"),
    bad(
        "no token for a write",
        "POST",
        "/api/datasets",
        401,
        "login",
        json=DATASET,
        role="anonymous",
    ),
    # Login.
    login("wrong password", 401, "wrong", {"username": "alice", "password": "not-hers"}),
    login("unknown user", 401, "wrong", {"username": "nobody", "password": "whatever"}),
    login("account without password", 401, "wrong", {"username": "bliss-id23", "password": "x"}),
    login("login missing password", 422, "password", {"username": "alice"}),
    login("login empty username", 422, "username", {"username": "", "password": "x"}),
    login("login NUL", 422, "username", {"username": "al\x00ce", "password": "x"}),
    login(
        "login unknown field", 422, "remember", {"username": "a", "password": "x", "remember": 1}
    ),
    bad(
        "login not json",
        "POST",
        "/api/auth/login",
        422,
        "JSON",
        content=b"user=a",
        headers=JSON_BODY,
    ),
]


def test_error_shape(http: httpx.Client) -> None:
    """Every error is a JSON object with one string `detail` (validation adds `errors`)."""
    for response in (
        http.get("/api/datasets/999"),
        http.get("/api/nothing-here"),
        http.get("/api/me", headers={"Authorization": "Bearer nonsense"}),
        http.post("/api/datasets", json={}),
    ):
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert isinstance(body["detail"], str) and body["detail"]
        assert set(body) <= {"detail", "errors"}
    validation = http.get("/api/datasets", params={"limit": 0}).json()
    assert validation["errors"] == [
        {"loc": ["query", "limit"], "msg": "Input should be greater than or equal to 1"}
    ]
    assert validation["detail"] == "query.limit: Input should be greater than or equal to 1"


def send(http: httpx.Client, world: World, case: BadInput) -> httpx.Response:
    """Send the request of ``case`` as its role."""
    return http.request(
        case.method,
        case.url.format(closed_dataset=world.closed_dataset),
        json=case.json,
        content=case.content,
        params=case.params,
        headers={**world.headers(case.role), **case.headers},
    )


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda case: case.name)
def test_bad_input_gets_a_clear_4xx(case: BadInput, http: httpx.Client, world: World) -> None:
    response = send(http, world, case)
    assert response.status_code == case.status, response.text
    if case.status >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str)
        for word in case.says:
            assert word in detail, f"{word!r} not in {detail!r}"


def test_bad_input_writes_nothing(http: httpx.Client, world: World, session: Session) -> None:
    tables = [Dataset, Datafile, DatasetParameter, Sample, Investigation, Instrument, Participant]

    def rows() -> list[int]:
        session.expire_all()
        return [session.scalar(select(func.count()).select_from(t)) or 0 for t in tables]

    before = rows()
    for case in BAD_INPUTS:
        if case.method == "POST" and case.url != "/api/auth/login":
            assert send(http, world, case).status_code == case.status, case.name
    assert rows() == before


def test_too_many_logins_answer_429_with_retry_after(http: httpx.Client, world: World) -> None:
    wrong = {"username": "alice", "password": "wrong-password"}
    for _ in range(5):  # the default allows five failures in the window
        assert http.post("/api/auth/login", json=wrong).status_code == 401
    refused = http.post("/api/auth/login", json={"username": "alice", "password": "alice-password"})
    assert refused.status_code == 429
    assert "alice" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 900
    # The limit is per username: another account still logs in.
    other = http.post("/api/auth/login", json={"username": "bob", "password": "bob-password"})
    assert other.status_code == 200


# Fields of a registration that can hold no text and no float: nothing to refuse in them.
NEITHER_TEXT_NOR_FLOAT = {"type", "start", "end", "inputs"}


def test_every_field_of_a_registration_is_checked_for_nul() -> None:
    """DatasetIn names the fields its NUL and finite-number check covers (the files are
    checked as one list): a field added without joining that list, or this one's, fails."""
    from fairbeam.catalogue.schemas import DatasetIn

    validators = DatasetIn.__pydantic_decorators__.field_validators
    checked = set(validators["_storable"].info.fields)
    assert checked | {"files"} | NEITHER_TEXT_NOR_FLOAT == set(DatasetIn.model_fields)
    assert not checked & NEITHER_TEXT_NOR_FLOAT
