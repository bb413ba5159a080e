"""Fast row writers: COPY on PostgreSQL, executemany on SQLite, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

# Characters of COPY text sent to the server at once.
COPY_WRITE_SIZE = 1 << 20


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def upsert_insert(session: Session, table: Any) -> Any:
    """The engine's INSERT that understands ON CONFLICT."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append rows to ``table`` as fast as the engine allows, inside the transaction."""
    dbapi = session.get_bind().dialect.loaded_dbapi
    try:
        _copy_rows(session, table, columns, rows)
    except dbapi.IntegrityError as exc:
        # Reported as SQLAlchemy does, so that callers retry a clash with a concurrent
        # writer (the same new dataset registered twice at once) as for any INSERT.
        raise IntegrityError(f"COPY {table}", None, exc) from exc


def _copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    driver = session.connection().connection.driver_connection
    column_list = ", ".join(f'"{c}"' for c in columns)
    if dialect_name(session) == "postgresql":
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)
    finally:
        cursor.close()


# COPY's text format: a column is written as is unless it holds one of these.
NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: str | None) -> str:
    """A text column in COPY's text format: None as NULL, special characters escaped."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def plain_copy_text(block: str, rows: int, columns: int) -> bool:
    """Whether lines formatted without escaping are COPY text as meant: one tab between
    columns, one newline per row, and no backslash or carriage return anywhere."""
    return (
        "\\" not in block
        and "\r" not in block
        and block.count("\t") == rows * (columns - 1)
        and block.count("\n") == rows
    )


def copy_text(session: Session, table: str, columns: Sequence[str], blocks: Iterable[str]) -> None:
    """Append rows given as blocks of lines in COPY's text format (PostgreSQL only).

    Lines formatted by the caller skip the per-value work of ``copy_rows``; a few large
    writes keep the server busy while the next block is formatted.
    """
    dbapi = session.get_bind().dialect.loaded_dbapi
    driver = session.connection().connection.driver_connection
    column_list = ", ".join(f'"{c}"' for c in columns)
    try:
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                pending: list[str] = []
                size = 0
                for block in blocks:
                    pending.append(block)
                    size += len(block)
                    if size >= COPY_WRITE_SIZE:
                        copy.write("".join(pending))
                        pending, size = [], 0
                if pending:
                    copy.write("".join(pending))
    except dbapi.IntegrityError as exc:
        raise IntegrityError(f"COPY {table}", None, exc) from exc


def insert_returning_ids(
    session: Session, statement: Insert, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert rows and return their new ids in the order given."""
    result = session.execute(
        statement.returning(statement.table.c.id, sort_by_parameter_order=True),
        rows,
    )
    return [row[0] for row in result]


def insert_with_new_ids(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    unique: Sequence[str],
) -> list[int]:
    """Insert rows (values in ``columns`` order) and return their new ids in order.

    On PostgreSQL the ids come from the table's sequence in one round trip and the
    rows go in with COPY, several times faster than INSERT ... RETURNING. On SQLite
    multi-row INSERTs return each id with the row's ``unique`` columns, which match
    ids to rows (asking for the rows' order would insert them one at a time).
    """
    if not rows:
        return []
    if dialect_name(session) == "postgresql":
        ids = sorted(
            session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:fb_table, 'id')) "
                    "FROM generate_series(1, :fb_count)"
                ),
                {"fb_table": table.name, "fb_count": len(rows)},
            ).scalars()
        )
        copy_rows(
            session,
            table.name,
            ("id", *columns),
            ((new_id, *row) for new_id, row in zip(ids, rows, strict=True)),
        )
        return ids
    positions = [columns.index(name) for name in unique]
    statement = insert(table).returning(table.c.id, *(table.c[name] for name in unique))
    result = session.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
    id_of = {tuple(found[1:]): found[0] for found in result}
    return [id_of[tuple(row[p] for p in positions)] for row in rows]
