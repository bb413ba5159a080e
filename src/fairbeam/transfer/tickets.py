"""Download tickets: a browser link cannot send `Authorization`, so the portal trades its
token for a URL whose short-lived `ticket` parameter only the download routes accept.

A ticket names its token, one download path (and, for a selection, its datasets) and an
expiry, signed with HMAC-SHA256 keyed by the token's stored digest: no new secret to
share between API processes, and revoking the token revokes its tickets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.models import ApiToken
from fairbeam.access.policy import Principal
from fairbeam.access.security import token_digest
from fairbeam.access.service import authenticate_digest
from fairbeam.catalogue.schemas import Strict
from fairbeam.db.base import utcnow
from fairbeam.errors import InvalidInput, Unauthenticated

TICKET_SECONDS = 300
SELECTION_PATH = "/api/archive.zip"
# The paths a ticket may open: the download routes, nothing else.
DOWNLOAD_PATH = re.compile(
    r"^/api/(?:files/\d+/content"
    r"|(?:datasets/\d+|investigations/[A-Za-z0-9._-]+)/(?:archive\.zip|manifest\.metalink|manifest\.txt)"
    r"|archive\.zip)$"
)


class TicketIn(Strict):
    """What to download: one download path; for `/api/archive.zip`, the datasets."""

    path: str = Field(max_length=300, examples=["/api/files/12/content"])
    datasets: list[int] | None = Field(None, min_length=1, max_length=1000)


class TicketOut(BaseModel):
    """A URL that downloads without `Authorization` until ``expires``."""

    url: str
    expires: datetime


@dataclass(frozen=True)
class Grant:
    """What a valid ticket lets its bearer download."""

    principal: Principal
    datasets: list[int] | None


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(token_hash: str, payload: str) -> str:
    return _encode(hmac.new(token_hash.encode(), payload.encode(), hashlib.sha256).digest())


def issue_ticket(session: Session, token: str | None, body: TicketIn) -> TicketOut:
    """A short-lived URL of ``body.path`` for the caller of ``token``."""
    if not token:
        raise Unauthenticated("log in to download: downloads need a registered identity")
    if not DOWNLOAD_PATH.match(body.path):
        raise InvalidInput(
            f"path {body.path!r} is not a download route; use /api/files/ID/content, "
            "/api/datasets/ID/archive.zip, a manifest or /api/archive.zip"
        )
    if (body.path == SELECTION_PATH) != (body.datasets is not None):
        raise InvalidInput("datasets are given with the path /api/archive.zip, and only then")
    digest = token_digest(token)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest))
    authenticate_digest(session, digest)  # a revoked or expired token gets no ticket
    expires = utcnow() + timedelta(seconds=TICKET_SECONDS)
    claims: dict[str, object] = {"t": token_id, "p": body.path, "e": int(expires.timestamp())}
    if body.datasets is not None:
        claims["d"] = list(dict.fromkeys(body.datasets))
    payload = _encode(json.dumps(claims, separators=(",", ":")).encode())
    ticket = f"{payload}.{_signature(digest, payload)}"
    return TicketOut(url=f"{body.path}?ticket={ticket}", expires=expires)


def redeem_ticket(session: Session, ticket: str, path: str) -> Grant:
    """Who the ticket speaks for, once it is checked to open ``path`` and not expired."""
    invalid = Unauthenticated("the download ticket is not valid: ask the portal for a new one")
    payload, _, signature = ticket.partition(".")
    try:
        claims = json.loads(_decode(payload))
        token_id, ticket_path, expiry = int(claims["t"]), str(claims["p"]), int(claims["e"])
        datasets = [int(d) for d in claims["d"]] if "d" in claims else None
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    digest = session.scalar(select(ApiToken.token_hash).where(ApiToken.id == token_id))
    if digest is None or not hmac.compare_digest(signature, _signature(digest, payload)):
        raise invalid
    if ticket_path != path:
        raise invalid
    if expiry < utcnow().timestamp():
        raise Unauthenticated("the download ticket has expired: start the download again")
    return Grant(authenticate_digest(session, digest), datasets)
