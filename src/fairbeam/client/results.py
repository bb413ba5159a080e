"""Lazy lists that follow the API's cursors, a page at a time, for the caller."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from fairbeam.client.display import html_table
from fairbeam.client.models import Record

R = TypeVar("R", bound=Record)
Fetch = Callable[[str, Mapping[str, Any]], Any]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
PREVIEW_ROWS = 20


class Results(Generic[R]):
    """The items of one API list: nothing is fetched until iterated, then page by page.

    Each iteration starts again from the first page; ``limit`` caps the total number of
    items and ``page_size`` the number fetched per request (at most 1000).
    """

    def __init__(
        self,
        fetch: Fetch,
        path: str,
        params: Mapping[str, Any],
        model: type[R],
        *,
        limit: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        self._fetch = fetch
        self.path = path
        self.params = {k: v for k, v in params.items() if v is not None and v != []}
        self.model = model
        self.limit = limit
        self.page_size = page_size

    def pages(self) -> Iterator[list[R]]:
        """Each page as a list, fetched when the previous one has been consumed."""
        remaining = self.limit
        cursor: str | None = None
        while remaining is None or remaining > 0:
            size = self.page_size if remaining is None else min(self.page_size, remaining)
            query = {**self.params, "limit": size}
            if cursor is not None:
                query["cursor"] = cursor
            body = self._fetch(self.path, query)
            items = [self.model.model_validate(item) for item in body["items"]]
            if remaining is not None:
                items = items[:remaining]
                remaining -= len(items)
            if items:
                yield items
            cursor = body.get("next")
            if cursor is None or not items:
                return

    def __iter__(self) -> Iterator[R]:
        for page in self.pages():
            yield from page

    def to_list(self) -> list[R]:
        """Every item (up to ``limit``), fetching all pages now."""
        return list(self)

    def first(self) -> R | None:
        """The first item, or None when the list is empty (fetches one item)."""
        return next(iter(self.with_limit(1)), None)

    def with_limit(self, limit: int | None) -> Results[R]:
        """The same list capped at ``limit`` items."""
        return Results(
            self._fetch, self.path, self.params, self.model, limit=limit, page_size=self.page_size
        )

    def rows(self) -> list[dict[str, Any]]:
        """Every item as a flat row (one column per field; datasets add their parameters)."""
        return [item.row() for item in self]

    def to_dataframe(self) -> Any:
        """Every item as a pandas DataFrame, one row per item (needs pandas installed)."""
        try:
            pandas = importlib.import_module("pandas")  # optional: not a dependency
        except ImportError as exc:
            raise ImportError("to_dataframe needs pandas: pip install pandas") from exc
        return pandas.DataFrame(self.rows())

    def __repr__(self) -> str:
        filters = "".join(f" {k}={v!r}" for k, v in self.params.items())
        cap = f" limit={self.limit}" if self.limit is not None else ""
        return f"<Results {self.path}{filters}{cap}: lazy, iterate or call to_list()>"

    def _repr_html_(self) -> str:
        preview = PREVIEW_ROWS if self.limit is None else min(PREVIEW_ROWS, self.limit)
        items = list(self.with_limit(preview + 1))
        more = len(items) > preview and (self.limit is None or self.limit > preview)
        shown = items[:preview]
        caption = f"{self.path}: first {len(shown)}, more to iterate" if more else self.path
        return html_table([item.row() for item in shown], caption)
