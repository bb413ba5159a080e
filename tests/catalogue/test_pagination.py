"""Cursor pages neither skip nor repeat rows while new rows arrive between pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal
from fairbeam.catalogue.datasets import DATASET_SORTS, DatasetFilters, list_datasets, list_files
from fairbeam.catalogue.models import Instrument, Investigation
from fairbeam.catalogue.service import (
    INVESTIGATION_SORTS,
    InvestigationFilters,
    list_investigations,
)
from tests.catalogue.conftest import register

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def walk(fetch: Callable[[str | None], Any], between: Callable[[int], None]) -> list[str]:
    """Every item of every page, calling ``between`` before each page after the first."""
    seen: list[str] = []
    cursor: str | None = None
    page_number = 0
    while True:
        if page_number:
            between(page_number)
        page = fetch(cursor)
        seen += [
            getattr(item, "name", None) or getattr(item, "code", None) or item.path
            for item in page.items
        ]
        page_number += 1
        cursor = page.next
        if cursor is None:
            return seen


@pytest.mark.parametrize("sort", sorted(DATASET_SORTS))
def test_datasets_under_concurrent_inserts(sort: str, session: Session, manager: Principal) -> None:
    # Twelve datasets, starts with ties (three share each hour), names in another order.
    existing = set()
    for n in range(12):
        name = f"d{(n * 5) % 12:02d}"
        register(session, manager, name=name, start=T0 + timedelta(hours=n // 3))
        existing.add(name)

    def insert(page_number: int) -> None:
        # One newest of all, one amid what was already seen, one amid what is to come.
        for tag, hours, name in (
            ("new", 100, "zz"),
            ("mid", 1, "d05x"),
            ("old", -5, "a"),
        ):
            label = f"{name}{tag}{page_number}"
            register(
                session, manager, name=label, start=T0 + timedelta(hours=hours, minutes=page_number)
            )

    seen = walk(
        lambda cursor: list_datasets(session, manager, DatasetFilters(), sort, 5, cursor), insert
    )
    old = [name for name in seen if name in existing]
    assert sorted(old) == sorted(existing)  # each pre-existing dataset exactly once
    assert len(seen) == len(set(seen))  # nothing repeated, new ones included


@pytest.mark.parametrize("sort", sorted(INVESTIGATION_SORTS))
def test_investigations_under_concurrent_inserts(
    sort: str, session: Session, manager: Principal
) -> None:
    instrument_id = session.scalar(select(Instrument.id))
    existing = {"MX-1"}
    for n in range(10):
        code = f"MX-{100 + (n * 3) % 10}"
        session.add(
            Investigation(
                code=code,
                title=code,
                instrument_id=instrument_id,
                start=T0 + timedelta(days=n // 2),
            )
        )
        existing.add(code)
    session.commit()

    def insert(page_number: int) -> None:
        for days, code in ((50, "ZZ"), (2, "MX-104"), (-10, "AA")):
            session.add(
                Investigation(
                    code=f"{code}-{page_number}",
                    title="new",
                    instrument_id=instrument_id,
                    start=T0 + timedelta(days=days, hours=page_number),
                )
            )
        session.commit()

    seen = walk(
        lambda cursor: list_investigations(
            session, manager, InvestigationFilters(), sort, 4, cursor
        ),
        insert,
    )
    assert sorted(code for code in seen if code in existing) == sorted(existing)
    assert len(seen) == len(set(seen))


def test_files_under_concurrent_inserts(session: Session, manager: Principal) -> None:
    paths = [f"scan_{n:03d}.h5" for n in range(0, 40, 3)]
    dataset_id = register(session, manager, name="big", files=[{"path": p} for p in paths])

    def insert(page_number: int) -> None:
        # Re-registration merges files: some sort before the cursor, some after.
        new = [f"scan_{n:03d}.h5x{page_number}" for n in (1, 20, 38)] + [
            f"a{page_number}",
            f"z{page_number}",
        ]
        register(
            session,
            manager,
            name="big",
            location="/data/MX-1/big",
            files=[{"path": p} for p in new],
        )

    seen = walk(lambda cursor: list_files(session, manager, dataset_id, 4, cursor), insert)
    assert sorted(p for p in seen if p in paths) == sorted(paths)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
