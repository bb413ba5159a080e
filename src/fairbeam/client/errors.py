"""What the client raises: the server's 4xx and 5xx answers, and an unreachable server."""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Base of every error the fairbeam client raises; ``detail`` is the server's text."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        method: str = "",
        url: str = "",
        errors: list[Any] | None = None,
    ) -> None:
        where = f" ({status} from {method} {url})" if status else ""
        super().__init__(f"{detail}{where}")
        self.detail = detail
        self.status = status
        self.method = method
        self.url = url
        self.errors = errors or []


class InvalidRequest(ClientError):
    """The server refused a value the request carried (400 or 422); ``errors`` names each."""


class Unauthorized(ClientError):
    """A token is needed, or the one given (or the login) is not valid (401)."""


class Forbidden(ClientError):
    """The caller is known but may not do this (403)."""


class NotFound(ClientError):
    """The object does not exist, or the caller may not see it (404)."""


class Conflict(ClientError):
    """The request contradicts what the catalogue already holds (409)."""


class TooManyRequests(ClientError):
    """Too many attempts (429); ``retry_after`` says how many seconds to wait."""

    retry_after: int | None = None


class ServerError(ClientError):
    """The server failed (5xx); the detail carries the request id to quote."""


class Unreachable(ClientError, ConnectionError):
    """The server could not be reached, or did not answer in time."""


class RestoreFailed(ClientError):
    """A restore of archived data failed; ``detail`` says why."""


class RestoreTimeout(ClientError, TimeoutError):
    """A restore waited for was not done in time; it goes on on the server."""


BY_STATUS: dict[int, type[ClientError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
    429: TooManyRequests,
}


def error_from_response(response: httpx.Response) -> ClientError:
    """The exception for an error ``response``, carrying the server's ``detail``."""
    errors: list[Any] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        if not isinstance(detail, str):  # a framework error may carry a list
            detail = str(detail)
        errors = body.get("errors") or []
    else:
        detail = response.text.strip()[:200] or response.reason_phrase
    status = response.status_code
    kind = BY_STATUS.get(status, ServerError if status >= 500 else ClientError)
    error = kind(
        detail,
        status=status,
        method=response.request.method,
        url=response.request.url.path,
        errors=errors,
    )
    if isinstance(error, TooManyRequests):
        retry_after = response.headers.get("retry-after", "")
        error.retry_after = int(retry_after) if retry_after.isdigit() else None
    return error
