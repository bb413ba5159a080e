"""The Python client of fairbeam: ``Client(url, token)`` for notebooks and control software."""

from fairbeam.client.client import Client
from fairbeam.client.errors import (
    ClientError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RestoreFailed,
    RestoreTimeout,
    ServerError,
    TooManyRequests,
    Unauthorized,
    Unreachable,
)
from fairbeam.client.models import (
    Datafile,
    Dataset,
    Facets,
    Instrument,
    Investigation,
    Registered,
    Restore,
    Stats,
    User,
)
from fairbeam.client.results import Results

__all__ = [
    "Client",
    "ClientError",
    "Conflict",
    "Datafile",
    "Dataset",
    "Facets",
    "Forbidden",
    "Instrument",
    "InvalidRequest",
    "Investigation",
    "NotFound",
    "Registered",
    "Restore",
    "RestoreFailed",
    "RestoreTimeout",
    "Results",
    "ServerError",
    "Stats",
    "TooManyRequests",
    "Unauthorized",
    "Unreachable",
    "User",
]
