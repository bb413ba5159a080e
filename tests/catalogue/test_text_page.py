"""A text search's pages hold exactly what one plain query finds: the same datasets in
the same order, through the access rules, page after page without skips or repeats,
however the matches are read (windows of time on PostgreSQL, one sorted slice
otherwise) and however small the windows and chunks are made."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from fairbeam.access.models import Role
from fairbeam.access.policy import ANONYMOUS, Principal, dataset_filter
from fairbeam.access.service import create_user, principal_of
from fairbeam.catalogue import search, text_page
from fairbeam.catalogue.conditions import condition_clause
from fairbeam.catalogue.datasets import (
    DATASET_SORTS,
    DatasetFilters,
    list_datasets,
    split_dataset_clauses,
)
from fairbeam.catalogue.models import (
    Dataset,
    Instrument,
    Investigation,
    Participant,
    ParticipantRole,
)
from fairbeam.catalogue.registration import register_datasets
from fairbeam.catalogue.schemas import DatasetIn
from fairbeam.catalogue.service import sort_key
from fairbeam.errors import InvalidInput
from fairbeam.pagination import decode_cursor

NOW = datetime.now(UTC)
GRID = datetime(2020, 1, 1, tzinfo=UTC)
SAMPLES = (
    "lysozyme",
    "lysosome",
    "proteinase_k",
    "TiO2_anatase",
    "café_crème",
    "ice_VII",
    "kapton",
)
QUERIES = (
    "lysozyme",
    "lyso",
    "proteinase k",
    "ice",
    "anatase tio2",
    "café",
    "0003",
    "lysozyme 0003",
    "ls",
    "rotation",
    "nothing_like_it",
)
CONDITIONS = (
    [],
    ["wavelength < 0.1 nm"],
    ["wavelength < 1.2 angstrom", "exposure_time <= 100 ms"],
    ["mode ~ still"],
    ["pressure > 1 bar"],
)


def _investigations(session: Session) -> list[Investigation]:
    rng = random.Random(3)
    instruments = [Instrument(name=name, techniques=["MX"]) for name in ("ID01", "ID02", "ID03")]
    session.add_all(instruments)
    session.flush()
    investigations = []
    for n in range(14):
        start = NOW - timedelta(days=40 + 170 * n + rng.randrange(60))
        # Released two years after the beam time; two under embargo for ever (no date).
        release = None if n in (3, 9) else start + timedelta(days=730)
        investigations.append(
            Investigation(
                code=f"LS-{n:04d}",
                title="Structure",
                instrument_id=instruments[n % 3].id,
                start=start,
                release_date=release,
            )
        )
    session.add_all(investigations)
    session.flush()
    return investigations


@pytest.fixture
def world(session: Session) -> dict[str, Principal]:
    """A facility of 14 investigations, half under embargo, with 200 datasets whose
    starts tie in places, some on another beamline than their investigation's, some
    registered again with a new start and sample; and one caller of every kind."""
    investigations = _investigations(session)
    users = {
        name: create_user(session, name, role=role, instruments=instruments)
        for name, role, instruments in (
            ("maria", Role.manager, None),
            ("sam", Role.staff, ["ID01"]),
            ("robot", Role.software, ["ID02"]),
            ("alice", Role.user, None),
            ("bob", Role.user, None),
        )
    }
    # alice takes part in two embargoed investigations and a released one, bob in one.
    for user, n in (("alice", 0), ("alice", 1), ("alice", 6), ("bob", 2)):
        session.add(
            Participant(
                investigation_id=investigations[n].id,
                user_id=users[user].id,
                role=ParticipantRole.collaborator,
            )
        )
    session.commit()
    callers = {name: principal_of(session, user) for name, user in users.items()}
    manager = callers["maria"]
    rng = random.Random(5)
    items = []
    for n in range(200):
        investigation = investigations[rng.randrange(len(investigations))]
        # Starts on one coarse grid, so that datasets of one investigation and of
        # several share a start.
        days = (investigation.start - GRID).days // 4 * 4
        start = GRID + timedelta(days=days + 4 * rng.randrange(-40, 80))
        items.append(
            DatasetIn(
                investigation=investigation.code,
                name=f"{rng.choice(SAMPLES)}_{n % 7:04d}",
                location=f"/data/{investigation.code}/scan{n:04d}",
                start=start,
                sample=rng.choice(SAMPLES),
                parameters={
                    "wavelength": {"value": round(rng.uniform(0.5, 2.0), 3), "unit": "angstrom"},
                    "exposure_time": {"value": round(rng.uniform(1, 500), 1), "unit": "ms"},
                    "mode": rng.choice(("Continuous Rotation", "still", "helical")),
                },
            )
        )
    # In batches of several sizes, and a few one at a time.
    sizes = [1, 1, 40, 3, 100, 1, 60]
    for size in sizes + [len(items)]:
        batch, items = items[:size], items[size:]
        if batch:
            register_datasets(session, manager, batch)
            session.commit()
    # Some datasets on another beamline than their investigation's, which its staff see.
    instrument_ids = list(session.scalars(select(Instrument.id)))
    for n, dataset_id in enumerate(session.scalars(select(Dataset.id).order_by(Dataset.id))):
        if n % 9 == 0:
            session.execute(
                update(Dataset)
                .where(Dataset.id == dataset_id)
                .values(instrument_id=instrument_ids[n % 3])
            )
    session.commit()
    # Registered again: a new start (older and newer) and a new sample.
    for dataset in session.scalars(select(Dataset).order_by(Dataset.id).limit(12)):
        code = session.get(Investigation, dataset.investigation_id)
        assert code is not None
        register_datasets(
            session,
            manager,
            [
                DatasetIn(
                    investigation=code.code,
                    name=dataset.name,
                    location=dataset.location,
                    start=dataset.start + timedelta(days=rng.choice((-400, 300))),
                    sample="kapton",
                )
            ],
        )
        session.commit()
    callers["anonymous"] = ANONYMOUS
    return callers


def _expected(
    session: Session, principal: Principal, filters: DatasetFilters, sort: str
) -> list[int]:
    """Every matching dataset the caller may see, in order: one plain query."""
    names, descending = sort_key(DATASET_SORTS, sort)
    parts = split_dataset_clauses(session, principal, filters)
    columns = [getattr(Dataset, name) for name in names]
    query = (
        select(Dataset.id)
        .join(Investigation, Investigation.id == Dataset.investigation_id)
        .where(
            dataset_filter(principal),
            *parts.plain,
            *([] if parts.text is None else [parts.text]),
            *[condition_clause(c, t) for c, t in parts.conditions],
        )
        .order_by(*[c.desc() if descending else c.asc() for c in columns])
    )
    return list(session.scalars(query))


def _walk(
    session: Session, principal: Principal, filters: DatasetFilters, sort: str, limit: int
) -> list[int]:
    """Every dataset of every page, checking each page's cursor on the way."""
    names, descending = sort_key(DATASET_SORTS, sort)
    seen: list[int] = []
    cursor = None
    while True:
        page = list_datasets(session, principal, filters, sort, limit, cursor)
        seen += [item.id for item in page.items]
        assert len(page.items) <= limit
        if page.next is None:
            return seen
        assert len(page.items) == limit
        last = page.items[-1]
        assert decode_cursor(page.next, len(names)) == [getattr(last, n) for n in names]
        cursor = page.next


@pytest.fixture(params=["plain", "tiny"])
def sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Windows, span reads and condition chunks as they ship, and as small as they go,
    so that pages cross many windows and chunks."""
    if request.param == "tiny":
        monkeypatch.setattr(text_page, "FIRST_WINDOW", 1)
        monkeypatch.setattr(text_page, "WINDOW_GROWTH", 2)
        monkeypatch.setattr(text_page, "MAX_CHECK", 3)
        monkeypatch.setattr(search, "SPANS_READ", 2)
    return str(request.param)


@pytest.mark.parametrize("who", ["anonymous", "alice", "bob", "sam", "robot", "maria"])
def test_pages_hold_what_one_query_finds(
    who: str, sizes: str, session: Session, world: dict[str, Principal]
) -> None:
    principal = world[who]
    rng = random.Random(f"{who}-{sizes}")
    # Every query with the sorts by start, a sample of the rest.
    combinations = [
        (q, conditions, sort)
        for q in QUERIES
        for conditions in CONDITIONS
        for sort in DATASET_SORTS
        if rng.random() < (0.3 if sort in ("-start", "start") else 0.05)
    ]
    for q, conditions, sort in combinations:
        filters = DatasetFilters(q=q, param=list(conditions))
        expected = _expected(session, principal, filters, sort)
        limit = rng.choice((2, 5, 9, 50))
        assert _walk(session, principal, filters, sort, limit) == expected, (q, conditions, sort)


@pytest.mark.parametrize("who", ["alice", "sam", "maria"])
def test_pages_with_other_filters(who: str, session: Session, world: dict[str, Principal]) -> None:
    principal = world[who]
    for filters in (
        DatasetFilters(q="lysozyme", instrument="ID01"),
        DatasetFilters(q="lyso", instrument="ID02", param=["mode ~ o"]),
        DatasetFilters(q="kapton", start_after=NOW - timedelta(days=900)),
        DatasetFilters(q="ice", start_before=NOW - timedelta(days=500), type="raw"),
        DatasetFilters(q="lysozyme", investigation="LS-0001"),
    ):
        for sort in ("-start", "start"):
            assert _walk(session, principal, filters, sort, 4) == _expected(
                session, principal, filters, sort
            )


def test_ties_across_investigations(
    sizes: str, session: Session, world: dict[str, Principal]
) -> None:
    """Pages whose cursors fall among datasets of several investigations sharing one
    start."""
    codes = [f"LS-{n:04d}" for n in (0, 1, 2, 5, 6, 7, 8)]
    tied = GRID + timedelta(days=400)
    register_datasets(
        session,
        world["maria"],
        [
            DatasetIn(
                investigation=code,
                name=f"lysozyme_tie{n}",
                location=f"/data/{code}/tie{n}",
                start=tied - timedelta(days=4 * (n % 3)),
                sample="lysozyme",
                parameters={"mode": "still" if n % 2 else "helical"},
            )
            for n in range(35)
            for code in [codes[n % len(codes)]]
        ],
    )
    session.commit()
    for who in ("alice", "anonymous", "maria"):
        for conditions in ([], ["mode ~ still"]):
            filters = DatasetFilters(q="lysozyme", param=conditions)
            for sort in ("-start", "start"):
                for limit in (2, 3):
                    expected = _expected(session, world[who], filters, sort)
                    assert _walk(session, world[who], filters, sort, limit) == expected


def test_a_bad_cursor_is_refused_when_nothing_matches(
    session: Session, world: dict[str, Principal]
) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        list_datasets(
            session, world["alice"], DatasetFilters(q="nothing_like_it"), "-start", 5, "WzEsMl0"
        )


def test_pages_after_deletions(session: Session, world: dict[str, Principal]) -> None:
    """Deleting datasets and a whole investigation leaves the search exact."""
    gone = list(session.scalars(select(Dataset.id).order_by(Dataset.start.desc()).limit(30)))
    session.execute(delete(Dataset).where(Dataset.id.in_(gone[::2])))
    investigation = session.scalars(select(Investigation).where(Investigation.code == "LS-0004"))
    doomed = investigation.one()
    session.execute(delete(Dataset).where(Dataset.investigation_id == doomed.id))
    session.delete(doomed)
    session.commit()
    for who in ("alice", "maria"):
        filters = DatasetFilters(q="lyso", param=["wavelength < 1.5 angstrom"])
        expected = _expected(session, world[who], filters, "-start")
        assert _walk(session, world[who], filters, "-start", 5) == expected


def test_new_datasets_between_pages(session: Session, world: dict[str, Principal]) -> None:
    """Datasets registered between pages neither hide nor repeat those already there."""
    manager = world["maria"]
    filters = DatasetFilters(q="lysozyme")
    before = set(_expected(session, manager, filters, "-start"))
    seen: list[int] = []
    cursor = None
    n = 0
    while True:
        page = list_datasets(session, manager, filters, "-start", 6, cursor)
        seen += [item.id for item in page.items]
        if page.next is None:
            break
        cursor = page.next
        n += 1
        register_datasets(
            session,
            manager,
            [
                DatasetIn(
                    investigation="LS-0005",
                    name=f"lysozyme_new{n}",
                    location=f"/data/new/{n}/{days}",
                    start=NOW - timedelta(days=days),
                    sample="lysozyme",
                )
                for days in (0, 900, 3000)
            ],
        )
        session.commit()
    assert before <= set(seen)
    assert len(seen) == len(set(seen))


def _lexemes(session: Session) -> list[tuple[str, int, datetime]]:
    return [
        (lexeme, investigation_id, start)
        for lexeme, investigation_id, start in session.execute(
            text(
                "SELECT lexeme, investigation_id, start FROM dataset, "
                "unnest(tsvector_to_array(search_vector)) AS lexeme "
                "WHERE ascii(lexeme) >= 97"
            )
        )
    ]


def test_every_word_of_every_dataset_is_in_its_investigation_span(
    session: Session, world: dict[str, Principal]
) -> None:
    """investigation_word, kept by triggers, covers every dataset however written:
    registered in bulk or alone, registered again, moved to another investigation."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("investigation_word is PostgreSQL's; SQLite's FTS5 gives ids directly")
    moved = session.scalars(select(Dataset).order_by(Dataset.id.desc()).limit(3)).all()
    target = session.scalar(select(Investigation.id).where(Investigation.code == "LS-0007"))
    session.execute(
        update(Dataset)
        .where(Dataset.id.in_([d.id for d in moved]))
        .values(investigation_id=target, start=NOW + timedelta(days=30))
    )
    session.commit()
    spans = {
        (word, investigation_id): (first, last)
        for word, investigation_id, first, last in session.execute(
            text("SELECT word, investigation_id, first_start, last_start FROM investigation_word")
        )
    }
    lexemes = _lexemes(session)
    assert lexemes
    for lexeme, investigation_id, start in lexemes:
        first, last = spans[(lexeme, investigation_id)]
        assert first <= start <= last
    # Counters and other columns change without rewriting the words.
    count = session.scalar(text("SELECT count(*) FROM investigation_word"))
    session.execute(update(Dataset).values(file_count=Dataset.file_count + 1))
    session.commit()
    assert session.scalar(text("SELECT count(*) FROM investigation_word")) == count


def test_deleting_an_investigation_deletes_its_words(
    session: Session, world: dict[str, Principal]
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("investigation_word is PostgreSQL's")
    doomed = session.scalars(select(Investigation).where(Investigation.code == "LS-0002")).one()
    session.execute(delete(Dataset).where(Dataset.investigation_id == doomed.id))
    session.delete(doomed)
    session.commit()
    left = session.scalar(
        text("SELECT count(*) FROM investigation_word WHERE investigation_id = :id"),
        {"id": doomed.id},
    )
    assert left == 0


def test_words_starting_with_a_letter_find_the_investigations(session: Session) -> None:
    expected = ["lysozyme"] if session.get_bind().dialect.name == "postgresql" else []
    assert search.spanned_words(session, "Lysozyme 0003 café") == expected
    assert search.spanned_words(session, "0003") == []
