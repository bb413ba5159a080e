"""The Python client of fairbeam, for scientists' notebooks and control software."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePath
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, Unpack
from urllib.parse import quote

import httpx

from fairbeam import __version__
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.client.encoding import (
    DatasetFilters,
    When,
    dataset_body,
    dataset_filters,
    jsonable,
    participants_body,
    when,
)
from fairbeam.client.errors import NotFound, Unreachable, error_from_response
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
from fairbeam.client.restore import wait_for_restore
from fairbeam.client.results import DEFAULT_PAGE_SIZE, Results

if TYPE_CHECKING:
    from fairbeam.api.app import Health
    from fairbeam.transfer.download import DownloadReport

RETRIES = 2
RETRY_DELAY = 0.25

# A request that never reached the server may always be sent again; one that may have
# reached it only when sending it twice does no harm (reads, and registration).
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
CUT_OFF = (*NOT_SENT, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class Client:
    """A connection to a fairbeam server at ``url``; ``token`` is an API or login token.

    Reads answer typed results; lists are lazy and follow the API's cursors. A 4xx or
    5xx answer raises a ``ClientError`` carrying the server's ``detail``.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = RETRIES,
        page_size: int = DEFAULT_PAGE_SIZE,
        verify: bool | str = True,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {url!r}")
        base = url.rstrip("/")
        self.url = base.removesuffix("/api")
        self.timeout = timeout
        self.retries = retries
        self.page_size = page_size
        self.user: User | None = None
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            verify=verify,
            headers={"User-Agent": f"fairbeam-client/{__version__}"},
        )
        self.token = token

    @classmethod
    def login(cls, url: str, username: str, password: str, **options: Any) -> Client:
        """A client logged in with a username and password (its ``user`` is set)."""
        client = cls(url, **options)
        try:
            answer = client._request(
                "POST", "/api/auth/login", body={"username": username, "password": password}
            )
        except BaseException:
            client.close()
            raise
        client.token = answer["token"]
        client.user = User.model_validate(answer["user"])
        return client

    @property
    def token(self) -> str | None:
        """The token sent as ``Authorization: Bearer``, or None for anonymous calls."""
        return self._token

    @token.setter
    def token(self, token: str | None) -> None:
        self._token = token
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"
        else:
            self._http.headers.pop("Authorization", None)

    def close(self) -> None:
        """Close the connections to the server."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        who = self.user.username if self.user else ("a token" if self.token else "anonymous")
        return f"<fairbeam Client {self.url} as {who}>"

    # Transport ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        resend: bool = False,
    ) -> Any:
        """The decoded JSON answer, retrying a few times when the connection fails."""
        content = None if body is None else json.dumps(body, default=jsonable).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        resend = resend or method == "GET"
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(
                    method, path, params=params, content=content, headers=headers
                )
                break
            except httpx.TransportError as exc:
                retry = isinstance(exc, CUT_OFF if resend else NOT_SENT)
                if not retry or attempt == self.retries:
                    raise self._unreachable(exc, method, path, attempt + 1) from exc
                time.sleep(RETRY_DELAY * 2**attempt)
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.json() if response.content else None

    def _unreachable(
        self, exc: httpx.TransportError, method: str, path: str, attempts: int
    ) -> Unreachable:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            detail = f"fairbeam at {self.url} did not answer {method} {path} in {self.timeout} s"
        else:
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            reason = str(exc) or type(exc).__name__
            detail = f"cannot reach fairbeam at {self.url}{tries}: {reason}"
        return Unreachable(detail, method=method, url=path)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self._request("GET", path, params=clean)

    def _results(
        self,
        path: str,
        params: Mapping[str, Any],
        model: type[Any],
        limit: int | None,
        page_size: int | None,
    ) -> Results[Any]:
        return Results(
            self._get, path, params, model, limit=limit, page_size=page_size or self.page_size
        )

    # Reads -------------------------------------------------------------------

    def health(self) -> Health:
        """The server's status, version and database engine."""
        from fairbeam.api.app import Health

        return Health.model_validate(self._get("/api/health"))

    def me(self) -> User:
        """The caller as the server sees it: username, role, beamlines."""
        return User.model_validate(self._get("/api/me"))

    def instruments(
        self, *, limit: int | None = None, page_size: int | None = None
    ) -> Results[Instrument]:
        """The facility's beamlines, by name."""
        return self._results("/api/instruments", {}, Instrument, limit, page_size)

    def instrument(self, name: str) -> Instrument:
        """One beamline by name."""
        for instrument in self.instruments():
            if instrument.name == name:
                return instrument
        raise NotFound(f"instrument {name!r} not found", url="/api/instruments")

    def investigations(
        self,
        *,
        scope: str | None = None,
        instrument: str | None = None,
        q: str | None = None,
        start_after: When | None = None,
        start_before: When | None = None,
        sort: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Results[Investigation]:
        """Investigations (``scope``: mine, open, closed, beamline or all), lazily paged."""
        params = {
            "scope": scope,
            "instrument": instrument,
            "q": q,
            "start_after": when(start_after),
            "start_before": when(start_before),
            "sort": sort,
        }
        return self._results("/api/investigations", params, Investigation, limit, page_size)

    def investigation(self, ref: str | int) -> Investigation:
        """One investigation by id or proposal code."""
        path = f"/api/investigations/{quote(str(ref), safe='')}"
        return Investigation.model_validate(self._get(path))

    def datasets(
        self,
        *,
        investigation: str | int | None = None,
        instrument: str | None = None,
        sample: str | int | None = None,
        technique: str | None = None,
        type: str | None = None,
        q: str | None = None,
        param: str | Iterable[str] | None = None,
        start_after: When | None = None,
        start_before: When | None = None,
        sort: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Results[Dataset]:
        """Datasets the caller may see; ``param`` takes conditions such as ``"energy > 12 keV"``."""
        filters = dataset_filters(
            {
                "investigation": investigation,
                "instrument": instrument,
                "sample": sample,
                "technique": technique,
                "type": type,
                "q": q,
                "param": param,
                "start_after": start_after,
                "start_before": start_before,
            }
        )
        return self._results("/api/datasets", {**filters, "sort": sort}, Dataset, limit, page_size)

    def facets(self, **filters: Unpack[DatasetFilters]) -> Facets:
        """Counts by beamline, technique, year and type; takes the filters of ``datasets``."""
        params = dataset_filters(filters)
        return Facets.model_validate(self._get("/api/datasets/facets", params))

    def dataset(self, dataset_id: int) -> Dataset:
        """One dataset with its parameters, sample and provenance."""
        return Dataset.model_validate(self._get(f"/api/datasets/{int(dataset_id)}"))

    def files(
        self,
        dataset: int | Dataset,
        *,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Results[Datafile]:
        """A dataset's files by path, lazily paged (a dataset may hold 200,000)."""
        dataset_id = dataset.id if isinstance(dataset, Dataset) else int(dataset)
        path = f"/api/datasets/{dataset_id}/files"
        return self._results(path, {}, Datafile, limit, page_size)

    def file(self, file_id: int) -> Datafile:
        """One datafile's record."""
        return Datafile.model_validate(self._get(f"/api/files/{int(file_id)}"))

    def download(
        self,
        target: str | int,
        to: str | PurePath = ".",
        *,
        parallel: int = 4,
        progress: Callable[[int, int], Callable[[int], None]] | None = None,
    ) -> DownloadReport:
        """Fetch a dataset (id), an investigation (code) or a portal URL into ``to``:
        parallel, resuming `.part` files, skipping what is there, every checksum verified."""
        from fairbeam.transfer.download import download

        return download(self, str(target), Path(to), parallel, progress)

    def stats(self, since: str = "all") -> Stats:
        """Volumes, counts and per-dataset averages (``since``: 7d, 30d, 365d or all)."""
        return Stats.model_validate(self._get("/api/stats", {"since": since}))

    def restores(
        self,
        *,
        status: str | None = None,
        dataset: int | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Results[Restore]:
        """Restore requests, newest first: a manager's all, anyone else's their own."""
        params = {"status": status, "dataset": dataset}
        return self._results("/api/restores", params, Restore, limit, page_size)

    # Writes ------------------------------------------------------------------

    def restore(
        self,
        dataset: int | Dataset,
        *,
        wait: bool = False,
        timeout: float = 3600.0,
        poll: float = 5.0,
    ) -> Restore:
        """Ask for an archived dataset to come back online (the request already queued, if
        any); with ``wait=True`` return once its files are on disk, checking every ``poll``
        seconds at most (RestoreFailed, or RestoreTimeout after ``timeout`` seconds)."""
        dataset_id = dataset.id if isinstance(dataset, Dataset) else int(dataset)
        answer = self._request("POST", f"/api/datasets/{dataset_id}/restore", resend=True)
        restore = Restore.model_validate(answer)
        return wait_for_restore(self, restore, timeout, poll) if wait else restore

    def create_investigation(
        self,
        code: str,
        title: str,
        instrument: str,
        start: When,
        *,
        end: When | None = None,
        abstract: str | None = None,
        release_date: When | None = None,
        participants: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
        visit: str | None = None,
        proposal_type: str | None = None,
        doi: str | None = None,
    ) -> Investigation:
        """A new investigation; ``participants`` maps usernames to roles."""
        body = {
            "code": code,
            "title": title,
            "instrument": instrument,
            "start": when(start),
            "end": when(end),
            "abstract": abstract,
            "release_date": when(release_date),
            "participants": None if participants is None else participants_body(participants),
            "visit": visit,
            "proposal_type": proposal_type,
            "doi": doi,
        }
        answer = self._request(
            "POST",
            "/api/investigations",
            body={k: v for k, v in body.items() if v is not None},
        )
        return Investigation.model_validate(answer)

    def register_dataset(
        self,
        investigation: str,
        name: str,
        location: str,
        *,
        type: str | None = None,
        technique: str | None = None,
        instrument: str | None = None,
        start: When | None = None,
        end: When | None = None,
        sample: str | Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        files: Iterable[str | PurePath | Mapping[str, Any]] | None = None,
        inputs: Iterable[int] | None = None,
    ) -> Dataset:
        """Register a dataset; the same investigation and location again updates it.

        ``parameters`` values may be plain, ``(value, unit)`` or ``{"value", "unit"}``;
        ``files`` entries a path or ``{"path", "size", "checksum"}``.
        """
        fields = {
            "investigation": investigation,
            "name": name,
            "location": location,
            "type": type,
            "technique": technique,
            "instrument": instrument,
            "start": start,
            "end": end,
            "sample": sample,
            "parameters": parameters,
            "files": None if files is None else list(files),
            "inputs": None if inputs is None else list(inputs),
        }
        answer = self._request("POST", "/api/datasets", body=dataset_body(fields), resend=True)
        return Dataset.model_validate(answer)

    def register_datasets(
        self, datasets: Iterable[Mapping[str, Any] | DatasetIn]
    ) -> list[Registered]:
        """Register many datasets in one transaction (up to 10,000): all, or none."""
        body = {"datasets": [dataset_body(fields) for fields in datasets]}
        answer = self._request("POST", "/api/datasets/batch", body=body, resend=True)
        return [Registered.model_validate(item) for item in answer]
