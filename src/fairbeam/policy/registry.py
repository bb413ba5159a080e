"""Where DOIs are registered: DataCite's REST API, or the catalogue itself.

`DataCiteRegistry` speaks DataCite's JSON:API at ``settings.datacite_url`` with HTTP
Basic auth (the repository id and password): ``POST /dois`` creates a DOI with the
event ``register`` (it resolves) or ``publish`` (it is also findable), ``PUT
/dois/{doi}`` updates its metadata and state, ``GET /dois/{doi}`` reads it.

`LocalRegistry`, used when ``datacite_url`` is empty, sends nothing: the DOIs live in
the catalogue only, under the configured (test) prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from fairbeam.config import Settings
from fairbeam.errors import FairbeamError
from fairbeam.policy.models import DoiState

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
JSONAPI = "application/vnd.api+json"
EVENTS = {DoiState.registered: "register", DoiState.findable: "publish"}


class RegistryError(FairbeamError):
    """The DOI registry did not take a request; the message says what it answered."""

    status_code = 502


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or failed (timeout, 5xx): retried later."""


class RegistryRejected(RegistryError):
    """The registry refused the request (credentials, prefix, metadata): it needs a
    person to fix the settings or the metadata."""


@dataclass(frozen=True)
class RegisteredDoi:
    """What the registry holds for a DOI."""

    doi: str
    state: str
    url: str
    attributes: dict[str, Any]


class Registry(Protocol):
    """A place DOIs are registered."""

    name: str

    def create(self, doi: str, attributes: dict[str, Any], state: DoiState) -> RegisteredDoi:
        """Register a new DOI in ``state``; one the registry already has is updated."""
        ...

    def update(self, doi: str, attributes: dict[str, Any], state: DoiState) -> RegisteredDoi:
        """New metadata and state for a DOI; one the registry does not have is created."""
        ...

    def get(self, doi: str) -> RegisteredDoi:
        """What the registry holds for ``doi``."""
        ...


class LocalRegistry:
    """The embedded default: DOIs are kept in the catalogue only, nothing is sent."""

    name = "local"

    def create(self, doi: str, attributes: dict[str, Any], state: DoiState) -> RegisteredDoi:
        return RegisteredDoi(doi, state.value, str(attributes.get("url", "")), attributes)

    def update(self, doi: str, attributes: dict[str, Any], state: DoiState) -> RegisteredDoi:
        return self.create(doi, attributes, state)

    def get(self, doi: str) -> RegisteredDoi:
        raise RegistryRejected(
            f"DOI {doi} is kept in the catalogue only (no DataCite URL is configured)"
        )


def _errors(response: httpx.Response) -> str:
    """DataCite's JSON:API error titles, or the start of the body."""
    try:
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            return "; ".join(
                f"{e.get('source')}: {e.get('title')}" if e.get("source") else str(e.get("title"))
                for e in errors[:5]
                if isinstance(e, dict)
            )
    except ValueError:
        pass
    return response.text[:300] or response.reason_phrase


def _taken(response: httpx.Response) -> bool:
    return response.status_code in (409, 422) and "taken" in _errors(response).lower()


class DataCiteRegistry:
    """A client of DataCite's REST API (or a server speaking its protocol)."""

    name = "datacite"

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.url,
            auth=httpx.BasicAuth(username, password) if username else None,
            timeout=timeout,
            headers={"Content-Type": JSONAPI, "Accept": JSONAPI},
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DataCiteRegistry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            return self.client.request(method, path, json=body)
        except httpx.TimeoutException as exc:
            raise RegistryUnavailable(
                f"DataCite at {self.url} did not answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"DataCite at {self.url} cannot be reached: {exc}") from exc

    def _check(self, response: httpx.Response, doi: str, what: str) -> RegisteredDoi:
        status = response.status_code
        if status in (200, 201):
            try:
                data = response.json()["data"]
                attributes = data["attributes"]
                return RegisteredDoi(
                    str(attributes.get("doi") or data["id"]),
                    str(attributes.get("state", "")),
                    str(attributes.get("url") or ""),
                    attributes,
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise RegistryUnavailable(
                    f"DataCite answered {what} of {doi} with a document that is not JSON:API"
                ) from exc
        detail = _errors(response)
        if status == 401:
            raise RegistryRejected(
                f"DataCite refused the credentials (FAIRBEAM_DATACITE_USERNAME/PASSWORD): {detail}"
            )
        if status == 403:
            raise RegistryRejected(
                f"DataCite does not let this repository {what} {doi} (is the prefix "
                f"{doi.split('/', 1)[0]} the repository's?): {detail}"
            )
        if status == 404:
            raise RegistryRejected(f"DataCite does not know DOI {doi}")
        if status == 422:
            raise RegistryRejected(f"DataCite refused the metadata of {doi}: {detail}")
        if status >= 500 or status == 429:
            raise RegistryUnavailable(f"DataCite failed to {what} {doi} (HTTP {status}): {detail}")
        raise RegistryRejected(f"DataCite refused to {what} {doi} (HTTP {status}): {detail}")

    @staticmethod
    def _document(doi: str, attributes: dict[str, Any], state: DoiState | None) -> dict[str, Any]:
        payload = {**attributes, "doi": doi}
        if state is not None and state in EVENTS:
            payload["event"] = EVENTS[state]
        return {"data": {"type": "dois", "attributes": payload}}

    def _path(self, doi: str) -> str:
        # Version 4.5's publisher object is sent and returned when asked for.
        return f"/dois/{doi}?publisher=true"

    def create(self, doi: str, attributes: dict[str, Any], state: DoiState) -> RegisteredDoi:
        response = self._send(
            "POST", "/dois?publisher=true", self._document(doi, attributes, state)
        )
        if _taken(response):
            return self.update(doi, attributes, state)
        return self._check(response, doi, "register")

    def update(self, doi: str, attributes: dict[str, Any], state: DoiState) -> RegisteredDoi:
        response = self._send("PUT", self._path(doi), self._document(doi, attributes, state))
        if response.status_code == 404:
            response = self._send(
                "POST", "/dois?publisher=true", self._document(doi, attributes, state)
            )
        return self._check(response, doi, "update")

    def get(self, doi: str) -> RegisteredDoi:
        return self._check(self._send("GET", self._path(doi)), doi, "read")


def registry_for(settings: Settings) -> DataCiteRegistry | LocalRegistry:
    """DataCite when a URL is configured, else the embedded local registry."""
    if settings.datacite_url:
        return DataCiteRegistry(
            settings.datacite_url, settings.datacite_username, settings.datacite_password
        )
    return LocalRegistry()
