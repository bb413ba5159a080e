"""Domain errors raised by services; the API maps each to an HTTP status."""

from __future__ import annotations


class FairbeamError(Exception):
    """Base of every error a person can act on."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(FairbeamError):
    """A value given by the caller is not acceptable; the message names it."""

    status_code = 422


class NotFound(FairbeamError):
    """The object does not exist, or the caller may not see it."""

    status_code = 404


class Unauthenticated(FairbeamError):
    """A token or login is needed, or the one given is not valid."""

    status_code = 401


class Forbidden(FairbeamError):
    """The caller is known but may not do this."""

    status_code = 403


class Conflict(FairbeamError):
    """The request contradicts what the catalogue already holds."""

    status_code = 409


class PayloadTooLarge(FairbeamError):
    """An upload is larger than the facility allows; the message names the limit."""

    status_code = 413


class TooManyAttempts(FairbeamError):
    """Too many failed attempts; retry after the given number of seconds."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class HarvestError(InvalidInput):
    """A file could not be harvested; the message names the file and what is wrong."""
