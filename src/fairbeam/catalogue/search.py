"""Text search on datasets: FTS5 on SQLite, a stored tsvector with a GIN index on
PostgreSQL, and there the investigations holding each word (migration 0009)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    String,
    cast,
    column,
    extract,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from fairbeam.catalogue.bulk import dialect_name
from fairbeam.catalogue.models import Dataset, Investigation
from fairbeam.errors import InvalidInput

# Letters and digits; underscores separate words, as both engines' tokenizers split them.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORDS = 12
# Words investigation_word answers: starting with a letter, as its lexemes do, and
# kept whole by PostgreSQL's parser, so that the tsquery's prefix is the word itself.
_SPANNED_WORD = re.compile(r"[a-z][0-9a-z]*")

# Spans read in the first query of a search (each next reads four times as many).
SPANS_READ = 200

# Kept by triggers, on PostgreSQL only (migration 0009), so not a mapped model.
investigation_word = table(
    "investigation_word",
    column("word", String),
    column("investigation_id", Integer),
    column("first_start", DateTime()),
    column("last_start", DateTime()),
)


def words_of(query: str) -> list[str]:
    """The words of a search box, lowercased; punctuation only separates."""
    words = [w.lower() for w in _WORD.findall(query)]
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"q has {len(words)} words; at most {MAX_WORDS} are searched")
    return words


def dataset_text_clause(session: Session, query: str, *, by_index: bool = True) -> Any:
    """Datasets whose text holds every word of ``query`` (as a prefix); None for no words.

    With ``by_index`` False, PostgreSQL checks the text on each row another index
    found, instead of reading every match from the text index first.
    """
    words = words_of(query)
    if not words:
        return None
    if dialect_name(session) == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        # search_vector is stored (migration 0002), so checking a candidate row costs
        # a comparison, not a new to_tsvector of its text. ts_match_vq is the function
        # behind @@, which the planner never answers from the GIN index: a frequent
        # word's 30,000 index entries cost more than a window's rows.
        test = (
            "dataset.search_vector @@ {}" if by_index else "ts_match_vq(dataset.search_vector, {})"
        )
        return text(test.format("to_tsquery('simple'::regconfig, :fb_tsquery)")).bindparams(
            fb_tsquery=tsquery
        )
    match = " ".join(f'"{w}"*' for w in words)
    return Dataset.id.in_(
        text("SELECT rowid FROM dataset_fts WHERE dataset_fts MATCH :fb_match")
        .bindparams(fb_match=match)
        .columns(rowid=Integer)
    )


def year_of(session: Session, column: Any) -> ColumnElement[int]:
    """The calendar year of a datetime column, as an integer."""
    if dialect_name(session) == "postgresql":
        return cast(extract("year", column), Integer)
    return cast(func.strftime("%Y", column), Integer)


def like_pattern(query: str) -> str:
    """A LIKE pattern for a substring, with LIKE's wildcards escaped."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class WordSpan:
    """An investigation whose datasets hold every word of a search, how many datasets
    it has, and where in a page sorted by start its matching datasets begin (``edge``,
    naive UTC: the last start newest first, the first start oldest first)."""

    investigation_id: int
    edge: datetime
    datasets: int


def spanned_words(session: Session, query: str) -> list[str]:
    """The words of ``query`` investigation_word answers for (none on SQLite). The
    investigations holding them hold every match: the other words are checked on the
    datasets."""
    if dialect_name(session) != "postgresql":
        return []
    return [w for w in words_of(query) if _SPANNED_WORD.fullmatch(w)]


def word_spans(
    session: Session,
    words: list[str],
    visible: ColumnElement[bool] | None,
    descending: bool,
    bound: datetime | None,
) -> Iterator[WordSpan]:
    """The investigations whose datasets hold every one of ``words`` as a prefix and
    that pass ``visible`` (a clause on Investigation), by edge in the page's order, the
    edge no further than ``bound`` (a cursor's start); read a few at a time, as the
    caller asks."""
    read = SPANS_READ
    last: WordSpan | None = None
    while True:
        spans = _spans_after(session, words, visible, descending, bound, last, read)
        yield from spans
        if len(spans) < read:
            return
        last, read = spans[-1], read * 4


def _spans_after(
    session: Session,
    words: list[str],
    visible: ColumnElement[bool] | None,
    descending: bool,
    bound: datetime | None,
    last: WordSpan | None,
    limit: int,
) -> list[WordSpan]:
    w = investigation_word.c
    # A word is a prefix of the lexemes in a range of the C-collated key; grouped per
    # investigation and word.
    per_word = [
        select(
            w.investigation_id,
            func.min(w.first_start).label("first_start"),
            func.max(w.last_start).label("last_start"),
        )
        .where(w.word >= word, w.word < word[:-1] + chr(ord(word[-1]) + 1))
        .group_by(w.investigation_id)
        for word in words
    ]
    spans = per_word[0].subquery("spans")
    if len(words) > 1:
        # Investigations holding every word; a dataset holding them all starts within
        # each word's span.
        found = union_all(*per_word).subquery("found")
        first, last_start = func.max(found.c.first_start), func.min(found.c.last_start)
        spans = (
            select(
                found.c.investigation_id,
                first.label("first_start"),
                last_start.label("last_start"),
            )
            .group_by(found.c.investigation_id)
            .having(func.count() == len(words), first <= last_start)
            .subquery("spans")
        )
    edge: ColumnElement[datetime] = spans.c.last_start if descending else spans.c.first_start
    ordered = select(spans.c.investigation_id)
    if bound is not None:
        limit_start = literal(bound, DateTime())
        if descending:
            edge = func.least(edge, limit_start)
            ordered = ordered.where(spans.c.first_start <= limit_start)
        else:
            edge = func.greatest(edge, limit_start)
            ordered = ordered.where(spans.c.last_start >= limit_start)
    # Sorted first, then each investigation looked up by primary key as its span is read
    # (OFFSET 0 keeps both apart, LIMIT stops the lookups): a search reads the
    # investigations its page needs, a user's newest, embargoed ones at one lookup each.
    # Joined plainly, the planner looked every one up, or hashed the whole table.
    by_edge = (
        ordered.add_columns(edge.label("edge"))
        .order_by(*_edge_order(edge, spans.c.investigation_id, descending))
        .offset(literal_column("0"))
        .subquery("by_edge")
    )
    investigation = (
        select(Investigation.dataset_count)
        .where(
            Investigation.id == by_edge.c.investigation_id, *([] if visible is None else [visible])
        )
        .offset(literal_column("0"))
        .lateral("investigation")
    )
    query = select(by_edge.c.investigation_id, by_edge.c.edge, investigation.c.dataset_count)
    if last is not None:
        key = tuple_(by_edge.c.edge, by_edge.c.investigation_id)
        seen = tuple_(literal(last.edge, DateTime()), literal(last.investigation_id))
        query = query.where(key < seen if descending else key > seen)
    query = query.order_by(*_edge_order(by_edge.c.edge, by_edge.c.investigation_id, descending))
    # Plain rows, read without the ORM's result processing.
    return [WordSpan(*row) for row in session.connection().execute(query.limit(limit))]


def _edge_order(edge: Any, investigation_id: Any, descending: bool) -> list[Any]:
    if descending:
        return [edge.desc(), investigation_id.desc()]
    return [edge.asc(), investigation_id.asc()]
