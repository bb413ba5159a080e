"""Text search on datasets: FTS5 on SQLite, a stored tsvector with a GIN index on
PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, extract, func, text
from sqlalchemy.orm import Session

from fairbeam.catalogue.bulk import dialect_name
from fairbeam.catalogue.models import Dataset
from fairbeam.errors import InvalidInput

# Letters and digits; underscores separate words, as both engines' tokenizers split them.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORDS = 12


def words_of(query: str) -> list[str]:
    """The words of a search box, lowercased; punctuation only separates."""
    words = [w.lower() for w in _WORD.findall(query)]
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"q has {len(words)} words; at most {MAX_WORDS} are searched")
    return words


def dataset_text_clause(session: Session, query: str) -> Any:
    """Datasets whose text holds every word of ``query`` (as a prefix); None for no words."""
    words = words_of(query)
    if not words:
        return None
    if dialect_name(session) == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        # search_vector is stored (migration 0002), so checking a candidate row costs
        # a comparison, not a new to_tsvector of its text.
        return text(
            "dataset.search_vector @@ to_tsquery('simple'::regconfig, :fb_tsquery)"
        ).bindparams(fb_tsquery=tsquery)
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
