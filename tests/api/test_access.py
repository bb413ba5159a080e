"""Every route of the application against every role, from one declarative table.

A route the application serves but the table does not list fails
`test_every_route_has_an_access_rule`: a new route needs its access rule here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken
from fairbeam.api.app import create_app
from fairbeam.catalogue.models import Datafile, Dataset, Instrument, Investigation, Participant
from fairbeam.config import Settings
from fairbeam.logbook.models import LogbookEvent
from fairbeam.policy.models import DoiCollection, EmbargoExtension
from tests.world import ROLES, World

# The roles of tests/world.py, and a caller whose token is not valid.
CALLERS = (*ROLES, "bad_token")
Outcome = dict[str, int]


def outcome(default: int, **per_role: int) -> Outcome:
    """The status each caller gets: ``default`` unless the role is named."""
    unknown = set(per_role) - set(CALLERS)
    assert not unknown, f"unknown roles {unknown}"
    return {caller: per_role.get(caller, default) for caller in CALLERS}


# Outcomes shared by several routes.
PUBLIC = outcome(200)  # no caller needed: a bad token is not even looked at
OPEN_TO_ALL = outcome(200, bad_token=401)
CLOSED_DATA = outcome(404, participant=200, staff=200, manager=200, software=200, bad_token=401)
FOREIGN_DATA = outcome(404, other_staff=200, manager=200, bad_token=401)
MISSING = outcome(404, bad_token=401)
REGISTER_ON_ID23 = outcome(403, anonymous=401, bad_token=401, staff=201, manager=201, software=201)
REGISTER_ON_ID11 = outcome(403, anonymous=401, bad_token=401, other_staff=201, manager=201)
MANAGERS_ONLY = outcome(403, anonymous=401, bad_token=401, manager=201)
CREATE_ON_ID23 = outcome(403, anonymous=401, bad_token=401, manager=201, software=201)
STAFF_ONLY = outcome(403, anonymous=401, bad_token=401, staff=200, other_staff=200, manager=200)
# Open data needs a login to download; lists of its files (manifests) too.
OPEN_BYTES = outcome(404, anonymous=401, bad_token=401)
OPEN_LISTS = outcome(200, anonymous=401, bad_token=401)


MISSING_WRITE = outcome(404, anonymous=401, bad_token=401)
SIGNED_IN = outcome(200, anonymous=401, bad_token=401)
MANAGERS_READ = outcome(403, anonymous=401, bad_token=401, manager=200)
BEAMLINE_LOGBOOK = outcome(404, staff=200, manager=200, software=200, bad_token=401)
WRITE_CLOSED_LOGBOOK = outcome(
    404, anonymous=401, bad_token=401, participant=201, staff=201, manager=201, software=403
)


def _logbook_event(code: str, kind: str) -> Callable[[str], dict[str, Any]]:
    return lambda role: {"investigation": code, "type": kind, "content": f"{kind} by {role}"}


def _dataset(code: str) -> Callable[[str], dict[str, Any]]:
    return lambda role: {
        "investigation": code,
        "name": f"scan_{role}",
        "location": f"/data/{code}/scan_{role}",
        "technique": "MX",
        "files": [{"path": "scan.h5", "size": 10}],
    }


def _batch(code: str) -> Callable[[str], dict[str, Any]]:
    return lambda role: {"datasets": [_dataset(code)(role)]}


def _extension(role: str) -> dict[str, Any]:
    return {"release_date": "2099-01-01T00:00:00Z", "reason": f"thesis of {role} not written"}


def _investigation(instrument: str) -> Callable[[str], dict[str, Any]]:
    return lambda role: {
        "code": f"NEW-{role}".replace("_", "-"),
        "title": "A new proposal",
        "instrument": instrument,
        "start": "2025-01-01T08:00:00Z",
        "end": "2025-01-03T08:00:00Z",
    }


@dataclass(frozen=True)
class Case:
    """One request to a route, and the status each caller gets."""

    method: str
    route: str  # the path as the application declares it
    url: str  # the concrete URL; {name} is an id of the world
    expect: Outcome
    body: Callable[[str], Any] | None = None
    writes: type | None = None  # the table that gains one row per accepted write
    page: bool = False  # an HTML page for people: its errors are pages too

    @property
    def id(self) -> str:
        return f"{self.method} {self.url}"


ACCESS: list[Case] = [
    # Outside /api: documentation and the front page, open to all.
    Case("GET", "/", "/", PUBLIC),  # the portal, or how to build it
    Case("GET", "/api/openapi.json", "/api/openapi.json", PUBLIC),
    Case("HEAD", "/api/openapi.json", "/api/openapi.json", PUBLIC),
    Case("GET", "/api/docs", "/api/docs", PUBLIC),
    Case("HEAD", "/api/docs", "/api/docs", PUBLIC),
    Case("GET", "/api/redoc", "/api/redoc", PUBLIC),
    Case("HEAD", "/api/redoc", "/api/redoc", PUBLIC),
    Case("GET", "/docs/oauth2-redirect", "/docs/oauth2-redirect", PUBLIC),
    Case("HEAD", "/docs/oauth2-redirect", "/docs/oauth2-redirect", PUBLIC),
    Case("GET", "/api/health", "/api/health", PUBLIC),
    # Accounts.
    Case(
        "POST",
        "/api/auth/login",
        "/api/auth/login",
        PUBLIC,
        body=lambda _: {"username": "alice", "password": "alice-password"},
    ),
    Case("GET", "/api/me", "/api/me", OPEN_TO_ALL),
    # Beamlines: public to read, managers create.
    Case("GET", "/api/instruments", "/api/instruments", PUBLIC),
    Case(
        "POST",
        "/api/instruments",
        "/api/instruments",
        MANAGERS_ONLY,
        body=lambda role: {"name": f"BM-{role}", "techniques": ["SAXS"]},
        writes=Instrument,
    ),
    # Investigations: high-level metadata is public, closed or not.
    Case("GET", "/api/investigations", "/api/investigations", OPEN_TO_ALL),
    Case(
        "GET",
        "/api/investigations/{ref}",
        "/api/investigations/{closed_investigation}",
        OPEN_TO_ALL,
    ),
    Case("GET", "/api/investigations/{ref}", "/api/investigations/MX-1001", OPEN_TO_ALL),
    Case(
        "GET", "/api/investigations/{ref}", "/api/investigations/{open_investigation}", OPEN_TO_ALL
    ),
    Case("GET", "/api/investigations/{ref}", "/api/investigations/HC-2000", OPEN_TO_ALL),
    Case("GET", "/api/investigations/{ref}", "/api/investigations/999999", MISSING),
    Case("GET", "/api/investigations/{ref}", "/api/investigations/NO-SUCH", MISSING),
    Case("GET", "/api/investigations", "/api/investigations?placeholder=true", OPEN_TO_ALL),
    # Samples follow the investigation's data.
    Case(
        "GET",
        "/api/investigations/{ref}/samples",
        "/api/investigations/{closed_investigation}/samples",
        CLOSED_DATA,
    ),
    Case(
        "GET",
        "/api/investigations/{ref}/samples",
        "/api/investigations/{open_investigation}/samples",
        OPEN_TO_ALL,
    ),
    Case(
        "GET",
        "/api/investigations/{ref}/samples",
        "/api/investigations/HC-2000/samples",
        FOREIGN_DATA,
    ),
    Case(
        "GET", "/api/investigations/{ref}/samples", "/api/investigations/NO-SUCH/samples", MISSING
    ),
    Case(
        "POST",
        "/api/investigations",
        "/api/investigations",
        CREATE_ON_ID23,
        _investigation("ID23"),
        Investigation,
    ),
    Case(
        "POST",
        "/api/investigations",
        "/api/investigations",
        MANAGERS_ONLY,
        _investigation("ID11"),
        Investigation,
    ),
    # Datasets: lists are filtered silently (see the tests below), one object is 404.
    Case("GET", "/api/datasets", "/api/datasets", OPEN_TO_ALL),
    Case("GET", "/api/datasets", "/api/datasets?investigation=MX-1001", OPEN_TO_ALL),
    Case("GET", "/api/datasets/facets", "/api/datasets/facets", OPEN_TO_ALL),
    Case("GET", "/api/datasets/{dataset_id}", "/api/datasets/{closed_dataset}", CLOSED_DATA),
    Case("GET", "/api/datasets/{dataset_id}", "/api/datasets/{open_dataset}", OPEN_TO_ALL),
    Case("GET", "/api/datasets/{dataset_id}", "/api/datasets/{foreign_dataset}", FOREIGN_DATA),
    Case("GET", "/api/datasets/{dataset_id}", "/api/datasets/999999", MISSING),
    Case(
        "GET",
        "/api/datasets/{dataset_id}/files",
        "/api/datasets/{closed_dataset}/files",
        CLOSED_DATA,
    ),
    Case(
        "GET", "/api/datasets/{dataset_id}/files", "/api/datasets/{open_dataset}/files", OPEN_TO_ALL
    ),
    Case(
        "GET",
        "/api/datasets/{dataset_id}/files",
        "/api/datasets/{foreign_dataset}/files",
        FOREIGN_DATA,
    ),
    Case("GET", "/api/datasets/{dataset_id}/files", "/api/datasets/999999/files", MISSING),
    Case("POST", "/api/datasets", "/api/datasets", REGISTER_ON_ID23, _dataset("MX-1001"), Dataset),
    Case("POST", "/api/datasets", "/api/datasets", REGISTER_ON_ID23, _dataset("MX-0900"), Dataset),
    Case("POST", "/api/datasets", "/api/datasets", REGISTER_ON_ID11, _dataset("HC-2000"), Dataset),
    Case(
        "POST",
        "/api/datasets/batch",
        "/api/datasets/batch",
        {**REGISTER_ON_ID23, "staff": 200, "manager": 200, "software": 200},
        _batch("MX-1001"),
        Dataset,
    ),
    Case(
        "POST",
        "/api/datasets/batch",
        "/api/datasets/batch",
        {**REGISTER_ON_ID11, "other_staff": 200, "manager": 200},
        _batch("HC-2000"),
        Dataset,
    ),
    # Files follow their dataset.
    Case("GET", "/api/files/{file_id}", "/api/files/{closed_file}", CLOSED_DATA),
    Case("GET", "/api/files/{file_id}", "/api/files/{open_file}", OPEN_TO_ALL),
    Case("GET", "/api/files/{file_id}", "/api/files/{foreign_file}", FOREIGN_DATA),
    Case("GET", "/api/files/{file_id}", "/api/files/999999", MISSING),
    # Downloads: bytes need a login even for open data (anonymous 401), and follow the
    # data's access otherwise; the world's files are not on disk, so those who may see
    # them get 404 for bytes (tests/transfer checks every role on real files).
    Case("GET", "/api/files/{file_id}/content", "/api/files/{closed_file}/content", MISSING),
    Case("GET", "/api/files/{file_id}/content", "/api/files/{open_file}/content", OPEN_BYTES),
    Case("GET", "/api/files/{file_id}/content", "/api/files/{foreign_file}/content", MISSING),
    Case("GET", "/api/files/{file_id}/content", "/api/files/999999/content", MISSING),
    *[
        Case("GET", f"/api/datasets/{{dataset_id}}/{name}", url, expect)
        for name in ("archive.zip", "manifest.txt")
        for url, expect in (
            (f"/api/datasets/{{closed_dataset}}/{name}", MISSING),
            (f"/api/datasets/{{open_dataset}}/{name}", OPEN_BYTES),
            (f"/api/datasets/{{foreign_dataset}}/{name}", MISSING),
            (f"/api/datasets/999999/{name}", MISSING),
        )
    ],
    *[
        Case("GET", f"/api/investigations/{{ref}}/{name}", url, expect)
        for name in ("archive.zip", "manifest.txt")
        for url, expect in (
            (f"/api/investigations/{{closed_investigation}}/{name}", MISSING),
            (f"/api/investigations/MX-0900/{name}", OPEN_BYTES),
            (f"/api/investigations/HC-2000/{name}", MISSING),
            (f"/api/investigations/NO-SUCH/{name}", MISSING),
        )
    ],
    Case("POST", "/api/archive.zip", "/api/archive.zip", MISSING, lambda _: {"datasets": [999999]}),
    # A link's selection comes from a download ticket (tests/transfer/test_tickets.py);
    # without one, every caller is told to ask for it.
    Case("GET", "/api/archive.zip", "/api/archive.zip", outcome(422, bad_token=401)),
    Case(
        "POST",
        "/api/downloads/ticket",
        "/api/downloads/ticket",
        outcome(200, anonymous=401, bad_token=401),
        lambda _: {"path": "/api/files/999999/content"},
    ),
    *[
        Case("GET", f"/api/datasets/{{dataset_id}}/{name}", url, expect)
        for name in ("manifest.metalink", "download")
        for url, expect in (
            (f"/api/datasets/{{closed_dataset}}/{name}", CLOSED_DATA),
            (f"/api/datasets/{{open_dataset}}/{name}", OPEN_LISTS),
            (f"/api/datasets/{{foreign_dataset}}/{name}", FOREIGN_DATA),
            (f"/api/datasets/999999/{name}", MISSING),
        )
    ],
    *[
        Case("GET", f"/api/investigations/{{ref}}/{name}", url, expect)
        for name in ("manifest.metalink", "download")
        for url, expect in (
            (f"/api/investigations/{{closed_investigation}}/{name}", CLOSED_DATA),
            (f"/api/investigations/MX-0900/{name}", OPEN_LISTS),
            (f"/api/investigations/HC-2000/{name}", FOREIGN_DATA),
            (f"/api/investigations/NO-SUCH/{name}", MISSING),
        )
    ],
    # HDF5 content follows the file; the world's files are not on disk, so those who may
    # see one get 404 too (tests/viewer checks every role on real files).
    *[
        Case("GET", f"/api/files/{{file_id}}/h5/{endpoint}{end}", url, MISSING)
        for endpoint in ("meta", "attr", "data", "stats", "paths")
        for end in ("/", "")
        for url in (
            f"/api/files/{{closed_file}}/h5/{endpoint}{end}",
            f"/api/files/{{open_file}}/h5/{endpoint}{end}",
        )
    ],
    # Harvest: whoever registers data asks for a harvest (here of a path outside the
    # data roots, refused once the caller is let in); managers read the problems.
    Case(
        "POST",
        "/api/ingest",
        "/api/ingest",
        outcome(422, anonymous=401, bad_token=401, other_user=403, participant=403),
        body=lambda _: {"paths": ["/"]},
    ),
    Case(
        "GET",
        "/api/ingest/problems",
        "/api/ingest/problems",
        outcome(403, anonymous=401, bad_token=401, manager=200),
    ),
    # Statistics: beamline staff and managers.
    Case("GET", "/api/stats", "/api/stats", STAFF_ONLY),
    Case("GET", "/api/stats/timeline", "/api/stats/timeline", STAFF_ONLY),
    Case("GET", "/api/stats/timeline", "/api/stats/timeline?by=year&instrument=ID11", STAFF_ONLY),
    # Logbook: read like the investigation's data; written by its participants, the
    # beamline's staff and managers; software posts notifications on its beamlines.
    # tests/logbook/test_access.py checks every role on real events.
    Case("GET", "/api/logbook/events", "/api/logbook/events", OPEN_TO_ALL),
    Case("GET", "/api/logbook/events", "/api/logbook/events?investigation=MX-1001", CLOSED_DATA),
    Case("GET", "/api/logbook/events", "/api/logbook/events?investigation=MX-0900", OPEN_TO_ALL),
    Case("GET", "/api/logbook/events", "/api/logbook/events?investigation=HC-2000", FOREIGN_DATA),
    Case("GET", "/api/logbook/events", "/api/logbook/events?instrument=ID23", BEAMLINE_LOGBOOK),
    Case(
        "POST",
        "/api/logbook/events",
        "/api/logbook/events",
        WRITE_CLOSED_LOGBOOK,
        _logbook_event("MX-1001", "annotation"),
        LogbookEvent,
    ),
    Case(
        "POST",
        "/api/logbook/events",
        "/api/logbook/events",
        {**WRITE_CLOSED_LOGBOOK, "software": 201},
        _logbook_event("MX-1001", "notification"),
        LogbookEvent,
    ),
    Case(
        "POST",
        "/api/logbook/events",
        "/api/logbook/events",
        {**WRITE_CLOSED_LOGBOOK, "participant": 403, "other_user": 403, "other_staff": 403},
        _logbook_event("MX-0900", "annotation"),
        LogbookEvent,
    ),
    Case(
        "POST",
        "/api/logbook/events",
        "/api/logbook/events",
        {**BEAMLINE_LOGBOOK, "staff": 201, "manager": 201, "software": 201, "anonymous": 401},
        lambda role: {"instrument": "ID23", "type": "notification", "content": role},
        LogbookEvent,
    ),
    Case(
        "POST",
        "/api/logbook/events/batch",
        "/api/logbook/events/batch",
        {**WRITE_CLOSED_LOGBOOK, "participant": 200, "staff": 200, "manager": 200, "software": 200},
        lambda role: {"events": [_logbook_event("MX-1001", "notification")(role)]},
        LogbookEvent,
    ),
    Case("GET", "/api/logbook/events/{event_id}", "/api/logbook/events/999999", MISSING),
    Case(
        "PUT",
        "/api/logbook/events/{event_id}",
        "/api/logbook/events/999999",
        MISSING_WRITE,
        body=lambda _: {"version": 1, "content": "edited"},
    ),
    Case("DELETE", "/api/logbook/events/{event_id}", "/api/logbook/events/999999", MISSING_WRITE),
    Case(
        "GET",
        "/api/logbook/events/{event_id}/history",
        "/api/logbook/events/999999/history",
        MISSING,
    ),
    Case(
        "POST",
        "/api/logbook/events/{event_id}/attachments",
        "/api/logbook/events/999999/attachments",
        MISSING_WRITE,
    ),
    Case(
        "GET",
        "/api/logbook/attachments/{attachment_id}/content",
        "/api/logbook/attachments/999999/content",
        MISSING,
    ),
    Case("GET", "/api/logbook/stream", "/api/logbook/stream?investigation=NO-SUCH", MISSING),
    Case(
        "GET",
        "/api/logbook/export.html",
        "/api/logbook/export.html?investigation=MX-1001",
        CLOSED_DATA,
    ),
    Case(
        "GET",
        "/api/logbook/export.html",
        "/api/logbook/export.html?investigation=MX-0900",
        OPEN_TO_ALL,
    ),
    Case(
        "GET",
        "/api/logbook/export.pdf",
        "/api/logbook/export.pdf?investigation=HC-2000",
        FOREIGN_DATA,
    ),
    Case("GET", "/api/logbook/stats", "/api/logbook/stats", STAFF_ONLY),
    # Embargo extensions: the principal investigator asks (here alice on MX-1001; the
    # manager's second request finds hers pending), managers decide; open data cannot
    # be closed again. tests/policy/test_extensions.py checks the rest.
    Case(
        "POST",
        "/api/investigations/{ref}/embargo-extensions",
        "/api/investigations/MX-1001/embargo-extensions",
        outcome(
            403,
            anonymous=401,
            bad_token=401,
            other_user=404,
            other_staff=404,
            participant=201,
            manager=409,
        ),
        _extension,
        EmbargoExtension,
    ),
    Case(
        "POST",
        "/api/investigations/{ref}/embargo-extensions",
        "/api/investigations/MX-0900/embargo-extensions",
        outcome(403, anonymous=401, bad_token=401, manager=409),
        _extension,
        EmbargoExtension,
    ),
    Case(
        "POST",
        "/api/investigations/{ref}/embargo-extensions",
        "/api/investigations/HC-2000/embargo-extensions",
        outcome(404, anonymous=401, bad_token=401, other_staff=403, manager=201),
        _extension,
        EmbargoExtension,
    ),
    Case(
        "POST",
        "/api/investigations/{ref}/embargo-extensions",
        "/api/investigations/NO-SUCH/embargo-extensions",
        MISSING_WRITE,
        _extension,
    ),
    Case("GET", "/api/embargo-extensions", "/api/embargo-extensions", SIGNED_IN),
    Case(
        "GET",
        "/api/embargo-extensions",
        "/api/embargo-extensions?status=pending&investigation=MX-1001",
        SIGNED_IN,
    ),
    Case(
        "GET",
        "/api/embargo-extensions/{extension_id}",
        "/api/embargo-extensions/999999",
        MISSING_WRITE,
    ),
    Case(
        "POST",
        "/api/embargo-extensions/{extension_id}/decision",
        "/api/embargo-extensions/999999/decision",
        outcome(403, anonymous=401, bad_token=401, manager=404),
        lambda _: {"approve": True, "note": "fine"},
    ),
    # Restores: whoever sees a dataset's data asks (the world's datasets are online: 409
    # once let in); requests are seen by their requester, the dataset's viewers and
    # managers. tests/policy/test_restore.py checks archived data end to end.
    Case(
        "POST",
        "/api/datasets/{dataset_id}/restore",
        "/api/datasets/{closed_dataset}/restore",
        outcome(404, participant=409, staff=409, manager=409, software=409, bad_token=401),
    ),
    Case(
        "POST",
        "/api/datasets/{dataset_id}/restore",
        "/api/datasets/{open_dataset}/restore",
        outcome(409, anonymous=401, bad_token=401),
    ),
    Case(
        "POST",
        "/api/datasets/{dataset_id}/restore",
        "/api/datasets/{foreign_dataset}/restore",
        FOREIGN_DATA | {"other_staff": 409, "manager": 409},
    ),
    Case("POST", "/api/datasets/{dataset_id}/restore", "/api/datasets/999999/restore", MISSING),
    Case("GET", "/api/restores", "/api/restores", outcome(200, anonymous=401, bad_token=401)),
    Case(
        "GET",
        "/api/restores",
        "/api/restores?status=lost",
        outcome(422, anonymous=401, bad_token=401),
    ),
    Case("GET", "/api/restores/{request_id}", "/api/restores/999999", MISSING),
    # DOIs: a logged-in user asks for a DOI on datasets they see (none here: 404 naming
    # nothing), sees their own requests; managers see all and decide. A DOI's metadata
    # and landing page are public. tests/policy/test_doi_collections.py checks the rest.
    Case(
        "POST",
        "/api/doi-requests",
        "/api/doi-requests",
        MISSING_WRITE,
        lambda _: {"title": "A collection", "datasets": [999999]},
        DoiCollection,
    ),
    Case(
        "GET", "/api/doi-requests", "/api/doi-requests", outcome(200, anonymous=401, bad_token=401)
    ),
    Case("GET", "/api/doi-requests/{request_id}", "/api/doi-requests/999999", MISSING_WRITE),
    Case(
        "POST",
        "/api/doi-requests/{request_id}/decision",
        "/api/doi-requests/999999/decision",
        outcome(403, anonymous=401, bad_token=401, manager=404),
        lambda _: {"approve": True, "note": "fine"},
    ),
    Case("GET", "/api/dois/{doi:path}", "/api/dois/10.5072/ESRF-NO-SUCH", outcome(404)),
    Case("GET", "/doi/{doi:path}", "/doi/10.5072/ESRF-NO-SUCH", outcome(404), page=True),
    # The policy pass: managers read its plan and its record.
    Case("GET", "/api/policy/plan", "/api/policy/plan", MANAGERS_READ),
    Case("GET", "/api/policy/plan", "/api/policy/plan?as_of=2031-01-01", MANAGERS_READ),
    Case("GET", "/api/policy/passes", "/api/policy/passes", MANAGERS_READ),
    Case(
        "GET",
        "/api/policy/passes/{pass_id}",
        "/api/policy/passes/999999",
        outcome(403, anonymous=401, bad_token=401, manager=404),
    ),
    # The audit trail: managers read and export it (tests/audit checks the filters).
    Case("GET", "/api/audit", "/api/audit", MANAGERS_READ),
    Case("GET", "/api/audit", "/api/audit?action=user.create&since=2020-01-01", MANAGERS_READ),
    Case("GET", "/api/audit/export", "/api/audit/export", MANAGERS_READ),
    Case("GET", "/api/audit/export", "/api/audit/export?format=json", MANAGERS_READ),
    Case(
        "GET",
        "/api/audit/export",
        "/api/audit/export?format=xml",
        outcome(403, anonymous=401, bad_token=401, manager=422),
    ),
    # Accounts: managers only.
    Case(
        "GET", "/api/users", "/api/users", outcome(403, anonymous=401, bad_token=401, manager=200)
    ),
    Case(
        "PATCH",
        "/api/users/{username}",
        "/api/users/carol",
        MANAGERS_READ,
        lambda _: {"role": "staff", "instruments": ["ID11"]},
    ),
    Case(
        "PATCH",
        "/api/users/{username}",
        "/api/users/nobody",
        outcome(403, anonymous=401, bad_token=401, manager=404),
        lambda _: {"active": False},
    ),
    # Tokens: each caller lists and revokes their own (here alice's: the manager's second
    # revocation changes nothing); managers anyone's. tests/access/test_changes.py checks
    # the rest.
    Case("GET", "/api/tokens", "/api/tokens", SIGNED_IN),
    Case("GET", "/api/tokens", "/api/tokens?user=carol", MANAGERS_READ),
    Case("GET", "/api/tokens", "/api/tokens?kind=lost", outcome(422, anonymous=401, bad_token=401)),
    Case(
        "DELETE",
        "/api/tokens/{token_id}",
        "/api/tokens/{participant_token}",
        outcome(404, anonymous=401, bad_token=401, participant=200, manager=200),
    ),
    Case("DELETE", "/api/tokens/{token_id}", "/api/tokens/999999", MISSING_WRITE),
    # Participants: managers add and remove anyone, the principal investigator (alice on
    # MX-1001) collaborators; who may not see the data gets 404. The only principal
    # investigator stays (409).
    Case(
        "POST",
        "/api/investigations/{ref}/participants",
        "/api/investigations/MX-1001/participants",
        outcome(
            403,
            anonymous=401,
            bad_token=401,
            other_user=404,
            other_staff=404,
            participant=201,
            manager=201,
        ),
        lambda role: {
            "username": "bob" if role == "participant" else "carol",
            "role": "collaborator",
        },
        Participant,
    ),
    Case(
        "POST",
        "/api/investigations/{ref}/participants",
        "/api/investigations/MX-0900/participants",
        outcome(403, anonymous=401, bad_token=401, manager=201),
        lambda _: {"username": "bob", "role": "co_investigator"},
        Participant,
    ),
    Case(
        "POST",
        "/api/investigations/{ref}/participants",
        "/api/investigations/NO-SUCH/participants",
        MISSING_WRITE,
        lambda _: {"username": "bob", "role": "collaborator"},
    ),
    Case(
        "DELETE",
        "/api/investigations/{ref}/participants/{username}",
        "/api/investigations/MX-1001/participants/alice",
        outcome(403, anonymous=401, bad_token=401, other_user=404, other_staff=404, manager=409),
    ),
    Case(
        "DELETE",
        "/api/investigations/{ref}/participants/{username}",
        "/api/investigations/MX-1001/participants/bob",
        outcome(
            403,
            anonymous=401,
            bad_token=401,
            other_user=404,
            other_staff=404,
            participant=404,
            manager=404,
        ),
    ),
    Case(
        "DELETE",
        "/api/investigations/{ref}/participants/{username}",
        "/api/investigations/NO-SUCH/participants/alice",
        MISSING_WRITE,
    ),
]


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, included routers flattened."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in (route.methods or ())
    }


def ids_of(world: World, session: Session) -> dict[str, int]:
    """The world's ids by the names the table uses."""
    foreign_file = session.scalar(
        select(Datafile.id).where(Datafile.dataset_id == world.foreign_dataset).limit(1)
    )
    assert foreign_file is not None
    participant_token = session.scalar(
        select(ApiToken.id).where(ApiToken.name == "participant token")
    )
    return {
        "participant_token": participant_token or 0,
        "closed_investigation": world.closed_investigation,
        "open_investigation": world.open_investigation,
        "closed_dataset": world.closed_dataset,
        "open_dataset": world.open_dataset,
        "foreign_dataset": world.foreign_dataset,
        "closed_file": world.closed_file,
        "open_file": world.open_file,
        "foreign_file": foreign_file,
    }


def headers_of(world: World, caller: str) -> dict[str, str]:
    """The Authorization header of a caller of the table."""
    if caller == "bad_token":
        return {"Authorization": "Bearer fb_this-token-was-never-issued"}
    return world.headers(caller)


def test_every_route_has_an_access_rule() -> None:
    app = create_app(Settings(database_url="sqlite://"))
    served = served_routes(app)
    declared = {(case.method, case.route) for case in ACCESS}
    assert served - declared == set(), "routes without an access rule in ACCESS"
    assert declared - served == set(), "rules in ACCESS for routes the app does not serve"


@pytest.mark.parametrize("case", ACCESS, ids=lambda case: case.id)
def test_route_answers_each_role(
    case: Case, http: httpx.Client, world: World, session: Session
) -> None:
    url = case.url.format(**ids_of(world, session))
    rows_before = count_rows(session, case.writes)
    got: Outcome = {}
    for caller in CALLERS:
        response = http.request(
            case.method,
            url,
            headers=headers_of(world, caller),
            json=case.body(caller) if case.body else None,
        )
        got[caller] = response.status_code
        if response.status_code >= 400 and not case.page:
            body = response.json()
            assert set(body) == {"detail"}, (caller, body)
            assert isinstance(body["detail"], str) and body["detail"], (caller, body)
        if response.status_code == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    assert got == case.expect
    # A refused write leaves nothing behind; an accepted one writes one row.
    accepted = sum(1 for status in got.values() if status in (200, 201))
    assert count_rows(session, case.writes) == rows_before + (accepted if case.writes else 0)


def count_rows(session: Session, table: type | None) -> int:
    """Rows in ``table`` as the database holds them now (0 without a table)."""
    if table is None:
        return 0
    session.expire_all()
    return session.scalar(select(func.count()).select_from(table)) or 0


# What each role sees of the world's three datasets (and their files).
VISIBLE_DATASETS = {
    "anonymous": {"open_0001"},
    "other_user": {"open_0001"},
    "participant": {"open_0001", "closed_0001"},
    "staff": {"open_0001", "closed_0001"},
    "other_staff": {"open_0001", "foreign_0001"},
    "manager": {"open_0001", "closed_0001", "foreign_0001"},
    "software": {"open_0001", "closed_0001"},
}
INVESTIGATION_OF = {"open_0001": "MX-0900", "closed_0001": "MX-1001", "foreign_0001": "HC-2000"}
INSTRUMENT_OF = {"open_0001": "ID23", "closed_0001": "ID23", "foreign_0001": "ID11"}


def names_seen(http: httpx.Client, world: World, url: str, **params: str) -> dict[str, set[str]]:
    """The ``name`` (or ``code``) of the items each role gets from a list."""
    seen = {}
    for role in ROLES:
        response = http.get(url, params=params, headers=world.headers(role))
        assert response.status_code == 200, (role, response.text)
        seen[role] = {item.get("name", item.get("code")) for item in response.json()["items"]}
    return seen


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"investigation": "MX-1001"},
        {"investigation": "MX-0900"},
        {"investigation": "HC-2000"},
        {"instrument": "ID11"},
        {"q": "lysozyme", "param": "wavelength < 1 nm"},
        {"sort": "name", "limit": "1000"},
    ],
    ids=str,
)
def test_dataset_list_is_filtered_silently(
    params: dict[str, str], http: httpx.Client, world: World
) -> None:
    def matches(name: str) -> bool:
        return (
            params.get("investigation", INVESTIGATION_OF[name]) == INVESTIGATION_OF[name]
            and params.get("instrument", INSTRUMENT_OF[name]) == INSTRUMENT_OF[name]
        )

    expected = {role: {n for n in VISIBLE_DATASETS[role] if matches(n)} for role in ROLES}
    assert names_seen(http, world, "/api/datasets", **params) == expected


@pytest.mark.parametrize("params", [{}, {"q": "lysozyme"}, {"instrument": "ID23"}], ids=str)
def test_facets_count_only_visible_datasets(
    params: dict[str, str], http: httpx.Client, world: World
) -> None:
    for role in ROLES:
        facets = http.get("/api/datasets/facets", params=params, headers=world.headers(role))
        visible = [
            n
            for n in VISIBLE_DATASETS[role]
            if params.get("instrument", INSTRUMENT_OF[n]) == INSTRUMENT_OF[n]
        ]
        per_instrument: dict[str, int] = {}
        for name in visible:
            per_instrument[INSTRUMENT_OF[name]] = per_instrument.get(INSTRUMENT_OF[name], 0) + 1
        body = facets.json()
        assert body["total"] == len(visible), role
        assert {f["value"]: f["count"] for f in body["instrument"]} == per_instrument, role
        assert sum(f["count"] for f in body["type"]) == len(visible), role


def test_every_role_sees_every_investigations_metadata(http: httpx.Client, world: World) -> None:
    everything = {"MX-1001", "MX-0900", "HC-2000"}
    assert names_seen(http, world, "/api/investigations") == {role: everything for role in ROLES}
    closed = http.get("/api/investigations/MX-1001").json()
    assert (closed["title"], closed["abstract"], closed["public"]) == (
        "Investigation MX-1001",
        "Abstract of MX-1001",
        False,
    )
    assert [p["username"] for p in closed["participants"]] == ["alice"]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("mine", {"participant": {"MX-1001"}}),
        (
            "beamline",
            {
                "staff": {"MX-1001", "MX-0900"},
                "other_staff": {"HC-2000"},
                "software": {"MX-1001", "MX-0900"},
            },
        ),
        ("open", {role: {"MX-0900"} for role in ROLES}),
        ("closed", {role: {"MX-1001", "HC-2000"} for role in ROLES}),
    ],
)
def test_investigation_scopes(
    scope: str, expected: dict[str, set[str]], http: httpx.Client, world: World
) -> None:
    seen = names_seen(http, world, "/api/investigations", scope=scope)
    assert {role: codes for role, codes in seen.items() if codes} == expected
